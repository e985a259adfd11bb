// Talking to one registry as the distribution spec and Docker's token protocol want:
//   ping      GET /v2/ without credentials; 200 or 401 says it is a v2 registry, and the 401's
//             WWW-Authenticate says how to authenticate (Bearer realm=... or Basic)
//   bearer    GET realm?service=...&scope=repository:NAME:pull[,push] (Basic credentials when we
//             have them) -> {"token"|"access_token", "expires_in"}; tokens are cached per scope
//             and credentials for the life of the process
//   basic     the credentials on every request
// HTTPS is verified by default; without verification (--tls-verify=false or registries.conf
// `insecure = true`) a registry that does not speak HTTPS is reached over plain HTTP, as
// containers/image does. Redirects are followed; the Authorization header only goes to the
// registry's own origin.

import * as http from 'node:http';
import * as crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { TspodError } from '../errors';
import { RegistryError, RegistryErrorKind } from './registry-error';
import { log } from '../log';
import { Env } from '../paths';
import { registryHost } from '../reference';
import { Challenge, parseChallenges } from './challenge';
import { findCredentials, Credentials } from './authfile';
import { loadTlsMaterial } from './certs';
import { discard, readBody, requestErrorText, send, TlsSettings, isTransientNetworkError, isTransientStatus } from './http';
import { errorTextFromResponse, invalidStatusText } from './response-errors';
import { loadRegistriesConf } from './registries-conf';

export interface RegistryOptions {
  /** Verify TLS certificates (default: true unless registries.conf marks the registry insecure). */
  tlsVerify?: boolean;
  /** Credentials to use instead of the auth files' (podman's --creds). */
  credentials?: Credentials;
  /** podman's --authfile. */
  authFile?: string;
  /** podman's --cert-dir. */
  certDir?: string;
  env?: Env;
  userAgent?: string;
}

const DEFAULT_USER_AGENT = 'tspod';
const MAX_REDIRECTS = 10;
const TOKEN_BODY_LIMIT = 1 << 20;
/** containers/image's floor: a token said to live less than this is kept this long. */
const MIN_TOKEN_LIFETIME_S = 60;

/** Path of a manifest: `/v2/library/busybox/manifests/latest`. */
export function manifestPath(repoPath: string, tagOrDigest: string): string {
  return `/v2/${repoPath}/manifests/${tagOrDigest}`;
}

export function blobPath(repoPath: string, digest: string): string {
  return `/v2/${repoPath}/blobs/${digest}`;
}

export function uploadPath(repoPath: string): string {
  return `/v2/${repoPath}/blobs/uploads/`;
}

/** The token scope for a repository: `repository:library/busybox:pull`. */
export function repositoryScope(repoPath: string, actions: string): string {
  return `repository:${repoPath}:${actions}`;
}

interface Endpoint {
  /** `https://localhost:5001` or `http://...` after fallback. */
  base: URL;
  challenges: Challenge[];
}

/** One registry reached one way (TLS settings): its ping result, shared by all requests. */
class RegistryEndpoint {
  private pinged?: Promise<Endpoint>;

  constructor(
    readonly host: string,
    readonly tls: TlsSettings,
    readonly userAgent: string,
  ) {}

  endpoint(): Promise<Endpoint> {
    if (!this.pinged) {
      this.pinged = this.ping();
      // A failed ping is not remembered: the registry may be up at the next call.
      this.pinged.catch(() => {
        this.pinged = undefined;
      });
    }
    return this.pinged;
  }

  private async ping(): Promise<Endpoint> {
    const attempt = async (scheme: 'https' | 'http'): Promise<Endpoint> => {
      const url = new URL(`${scheme}://${this.host}/v2/`);
      let res: http.IncomingMessage;
      try {
        res = await send({ method: 'GET', url, headers: this.baseHeaders(), tls: this.tls });
      } catch (err) {
        throw new RegistryError(requestErrorText('GET', url, err), { kind: 'network', transient: isTransientNetworkError(err), cause: err });
      }
      discard(res);
      const status = res.statusCode ?? 0;
      log.debug(`Ping ${url.href} status ${status}`);
      if (status !== 200 && status !== 401) throw new RegistryError(invalidStatusText(status), { kind: 'status', status });
      return { base: new URL(`${scheme}://${this.host}`), challenges: parseChallenges(res.headers['www-authenticate']) };
    };
    try {
      try {
        return await attempt('https');
      } catch (err) {
        if (this.tls.verify) throw err;
        log.debug(`HTTPS ping of ${this.host} failed (${(err as Error).message}), trying HTTP`);
        return await attempt('http');
      }
    } catch (err) {
      const e = err as RegistryError;
      throw new RegistryError(`pinging container registry ${this.host}: ${e.message}`, { kind: e.kind ?? 'network', status: e.status, cause: err });
    }
  }

  baseHeaders(): Record<string, string> {
    return { 'User-Agent': this.userAgent, 'Docker-Distribution-API-Version': 'registry/2.0' };
  }
}

const endpoints = new Map<string, RegistryEndpoint>();

interface CachedToken {
  token: string;
  expiresAt: number;
}
/** Tokens per realm, service, scope and credentials, for the life of the process. */
const tokens = new Map<string, Promise<CachedToken>>();

/** Forgets cached pings and tokens (tests). */
export function resetRegistryState(): void {
  endpoints.clear();
  tokens.clear();
}

function envOf(opts: RegistryOptions): Env {
  return opts.env ?? process.env;
}

/**
 * The endpoint for a registry, given the reference name it is used for (registries.conf may
 * mark a namespace insecure or blocked).
 */
function endpointFor(domain: string, name: string, opts: RegistryOptions): RegistryEndpoint {
  const env = envOf(opts);
  const conf = loadRegistriesConf(env);
  const entry = conf.find(name);
  if (entry?.blocked) {
    throw new TspodError(`registry ${entry.prefix} is blocked in ${conf.source ?? 'registries.conf'}`);
  }
  const verify = opts.tlsVerify ?? !(entry?.insecure ?? false);
  const material = loadTlsMaterial(domain, { certDir: opts.certDir, env });
  const tls: TlsSettings = { verify, ca: material.ca, cert: material.cert, key: material.key };
  const host = registryHost(domain);
  const userAgent = opts.userAgent ?? DEFAULT_USER_AGENT;
  const tlsId = crypto.createHash('sha256').update(JSON.stringify([material.ca, material.cert ?? '', material.key ?? ''])).digest('hex');
  const key = JSON.stringify([host, verify, tlsId, userAgent]);
  let ep = endpoints.get(key);
  if (!ep) {
    ep = new RegistryEndpoint(host, tls, userAgent);
    endpoints.set(key, ep);
  }
  return ep;
}

function basicAuth(c: Credentials): string {
  return 'Basic ' + Buffer.from(`${c.username}:${c.password}`).toString('base64');
}

function sameOrigin(a: URL, b: URL): boolean {
  return a.protocol === b.protocol && a.host === b.host;
}

export interface RequestInit {
  headers?: Record<string, string>;
  body?: Buffer | Readable;
  bodyLength?: number;
  /** Follow 3xx answers (GET/HEAD by default). */
  followRedirects?: boolean;
}

export interface Response {
  res: http.IncomingMessage;
  /** The URL that answered (after redirects). */
  url: URL;
}

/**
 * A client for one repository of one registry with given rights (`pull` or `pull,push`).
 * Creating one does no I/O beyond reading configuration files.
 */
export class RepoClient {
  readonly repoPath: string;
  /** `localhost:5000/app`, as messages name the repository. */
  readonly name: string;
  private readonly endpoint: RegistryEndpoint;
  private readonly credentials?: Credentials;
  private readonly scope: string;
  private readonly noTokenCache: boolean;

  constructor(ref: { domain: string; path: string }, opts: RegistryOptions, actions = 'pull', o: { noTokenCache?: boolean } = {}) {
    this.repoPath = ref.path;
    this.name = ref.path ? `${ref.domain}/${ref.path}` : ref.domain;
    this.endpoint = endpointFor(ref.domain, this.name, opts);
    this.credentials = opts.credentials ?? findCredentials(this.name, { authFile: opts.authFile, env: envOf(opts) });
    this.scope = ref.path ? repositoryScope(ref.path, actions) : '';
    this.noTokenCache = o.noTokenCache ?? false;
  }

  /** The Authorization header value for our scope, given the registry's challenges. */
  private async authorization(challenges: Challenge[], scopes: string[]): Promise<string | undefined> {
    for (const c of challenges) {
      if (c.scheme === 'basic') return this.credentials ? basicAuth(this.credentials) : undefined;
      if (c.scheme === 'bearer') return 'Bearer ' + (await this.token(c, scopes));
    }
    if (challenges.length) log.debug(`no supported authentication among ${challenges.map((c) => c.scheme).join(', ')}, trying without`);
    return undefined;
  }

  private tokenKey(c: Challenge, scopes: string[]): string {
    const who = this.credentials
      ? `${this.credentials.username}:${crypto.createHash('sha256').update(this.credentials.password).digest('hex')}`
      : '';
    return JSON.stringify([c.params.realm, c.params.service ?? '', scopes, who]);
  }

  private async token(c: Challenge, scopes: string[], refresh = false): Promise<string> {
    const key = this.tokenKey(c, scopes);
    if (this.noTokenCache) return (await this.fetchToken(c, scopes)).token;
    const cached = tokens.get(key);
    if (cached && !refresh) {
      try {
        const t = await cached;
        if (t.expiresAt > Date.now()) return t.token;
      } catch {
        // A failed fetch of another request: fetch again below.
      }
    }
    const p = this.fetchToken(c, scopes);
    tokens.set(key, p);
    p.catch(() => {
      if (tokens.get(key) === p) tokens.delete(key);
    });
    return (await p).token;
  }

  private async fetchToken(c: Challenge, scopes: string[]): Promise<CachedToken> {
    const realm = c.params.realm;
    if (!realm) throw new RegistryError('missing realm in bearer auth challenge', { kind: 'protocol' });
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryError(`invalid realm "${realm}" in bearer auth challenge`, { kind: 'protocol' });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new RegistryError(`invalid realm "${realm}" in bearer auth challenge`, { kind: 'protocol' });
    }
    if (this.credentials?.username) url.searchParams.append('account', this.credentials.username);
    if (c.params.service) url.searchParams.append('service', c.params.service);
    for (const s of scopes) url.searchParams.append('scope', s);
    const headers = this.endpoint.baseHeaders();
    if (this.credentials?.username && this.credentials.password) headers.Authorization = basicAuth(this.credentials);
    log.debug(`GET ${url.href}`);
    let res: http.IncomingMessage;
    try {
      res = await send({ method: 'GET', url, headers, tls: this.endpoint.tls });
    } catch (err) {
      throw new RegistryError(requestErrorText('GET', url, err), { kind: 'network', transient: isTransientNetworkError(err), cause: err });
    }
    const status = res.statusCode ?? 0;
    if (status === 401) {
      const text = await errorTextFromResponse(res);
      throw new RegistryError(`unable to retrieve auth token: invalid username/password: ${text}`, { kind: 'unauthorized', status });
    }
    if (status === 429) {
      discard(res);
      throw new RegistryError('too many requests to registry', { kind: 'status', status, transient: true });
    }
    if (status !== 200) {
      discard(res);
      throw new RegistryError(`requesting bearer token: ${invalidStatusText(status)}`, { kind: 'status', status, transient: status >= 500 });
    }
    const body = await readBody(res, TOKEN_BODY_LIMIT, 'auth token response');
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new RegistryError(`invalid auth token response from ${url.origin}: not JSON`, { kind: 'protocol' });
    }
    const token = typeof parsed.token === 'string' && parsed.token ? parsed.token : parsed.access_token;
    if (typeof token !== 'string' || token === '') throw new RegistryError(`invalid auth token response from ${url.origin}: no token`, { kind: 'protocol' });
    const lifetime = Math.max(typeof parsed.expires_in === 'number' ? parsed.expires_in : 0, MIN_TOKEN_LIFETIME_S);
    const issued = typeof parsed.issued_at === 'string' ? Date.parse(parsed.issued_at) : NaN;
    // Judge expiry by our clock; a registry's clock may be off. Renew a little early.
    const start = Number.isFinite(issued) && Math.abs(issued - Date.now()) < 60_000 ? issued : Date.now();
    return { token, expiresAt: start + lifetime * 1000 - 5_000 };
  }

  /**
   * Sends a request to the registry (path relative to it, or an absolute URL from a Location
   * header) with authentication. Network failures throw RegistryError; HTTP statuses are the
   * caller's to judge.
   */
  async request(method: string, pathOrUrl: string | URL, init: RequestInit = {}): Promise<Response> {
    const ep = await this.endpoint.endpoint();
    let url = new URL(String(pathOrUrl), ep.base);
    let challenges = ep.challenges;
    const scopes = this.scope ? [this.scope] : [];
    let auth = await this.authorization(challenges, scopes);
    const follow = init.followRedirects ?? (method === 'GET' || method === 'HEAD');
    let retriedAuth = false;
    for (let redirects = 0; ; ) {
      const headers = { ...this.endpoint.baseHeaders(), ...(init.headers ?? {}) };
      if (auth && sameOrigin(url, ep.base)) headers.Authorization = auth;
      log.debug(`${method} ${url.href}`);
      let res: http.IncomingMessage;
      try {
        res = await send({ method, url, headers, body: init.body, bodyLength: init.bodyLength, tls: this.endpoint.tls });
      } catch (err) {
        throw new RegistryError(requestErrorText(method, url, err), { kind: 'network', transient: isTransientNetworkError(err), cause: err });
      }
      const status = res.statusCode ?? 0;
      if (follow && [301, 302, 303, 307, 308].includes(status) && res.headers.location) {
        discard(res);
        if (++redirects > MAX_REDIRECTS) throw new RegistryError(`${method} ${url.href}: stopped after ${MAX_REDIRECTS} redirects`, { kind: 'protocol' });
        url = new URL(res.headers.location, url);
        if (url.protocol !== 'https:' && url.protocol !== 'http:') {
          throw new RegistryError(`${method} ${url.href}: redirect to an unsupported scheme`, { kind: 'protocol' });
        }
        continue;
      }
      if (status === 401 && !retriedAuth && sameOrigin(url, ep.base) && (init.body === undefined || Buffer.isBuffer(init.body))) {
        // Either the ping asked for no authentication but this resource does, or our token
        // expired early: answer the resource's own challenge once.
        const fresh = parseChallenges(res.headers['www-authenticate']);
        const bearer = fresh.find((c) => c.scheme === 'bearer');
        const sentNothing = headers.Authorization === undefined;
        const expired = bearer?.params.error === 'invalid_token';
        if (fresh.length && (sentNothing || expired) && (bearer || this.credentials)) {
          retriedAuth = true;
          discard(res);
          challenges = fresh;
          auth = bearer ? 'Bearer ' + (await this.token(bearer, scopes, true)) : await this.authorization(challenges, scopes);
          continue;
        }
      }
      return { res, url };
    }
  }

  /**
   * Checks credentials against the registry as `login` does: GET /v2/ with them. Throws a
   * RegistryError of kind 'unauthorized' when the registry refuses them.
   */
  async checkAuth(): Promise<void> {
    const { res } = await this.request('GET', '/v2/');
    const status = res.statusCode ?? 0;
    if (status === 200) {
      discard(res);
      return;
    }
    const text = await errorTextFromResponse(res);
    if (status === 401) throw new RegistryError(`unable to retrieve auth token: invalid username/password: ${text}`, { kind: 'unauthorized', status });
    if (status === 429) throw new RegistryError('too many requests to registry', { kind: 'status', status });
    throw new RegistryError(invalidStatusText(status), { kind: 'status', status });
  }
}

/** A RegistryError for an unexpected response, with the registry's own words. */
export async function responseError(context: string, res: http.IncomingMessage): Promise<RegistryError> {
  const status = res.statusCode ?? 0;
  const text = await errorTextFromResponse(res);
  const kind: RegistryErrorKind = status === 401 ? 'unauthorized' : status === 403 ? 'denied' : status === 404 ? 'not-found' : 'status';
  const retryAfter = typeof res.headers['retry-after'] === 'string' ? res.headers['retry-after'] : undefined;
  return new RegistryError(`${context}: ${text}`, { kind, status, transient: isTransientStatus(status), retryAfter });
}
