// A small, independent registry client for tests that look at what a registry holds (after a
// push, or to check the bed itself). Deliberately not core/registry: a test must not trust the
// code it tests to tell it what is on the server.

import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { CA_CERT } from './bed';

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** PEM of the CA to trust for https; default the test CA. */
  ca?: string | Buffer;
  timeout?: number;
}

export function httpRequest(url: string, opts: HttpOptions = {}): Promise<HttpResponse> {
  const u = new URL(url);
  const secure = u.protocol === 'https:';
  const mod = secure ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      u,
      {
        method: opts.method ?? 'GET',
        headers: opts.headers,
        timeout: opts.timeout ?? 15_000,
        ...(secure ? { ca: opts.ca ?? fs.readFileSync(CA_CERT) } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${opts.method ?? 'GET'} ${url}: timed out`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface RegistryOptions {
  /** 'user:password' for basic auth or to obtain a token; anonymous without it. */
  creds?: string;
  /** 'http' for the plain registry; default 'https' for any port but 5000. */
  scheme?: 'http' | 'https';
  ca?: string | Buffer;
}

function basic(creds: string): string {
  return 'Basic ' + Buffer.from(creds).toString('base64');
}

function baseUrl(registry: string, opts: RegistryOptions): string {
  const host = registry.replace(/^localhost:/, '127.0.0.1:');
  const scheme = opts.scheme ?? (host.endsWith(':5000') ? 'http' : 'https');
  return `${scheme}://${host}`;
}

/**
 * A request to a registry (REGISTRY, TLS_REGISTRY, TOKEN_REGISTRY or any host:port) that answers a
 * 401 challenge once: basic auth with `creds`, or a bearer token fetched from the challenge's realm.
 */
export async function registryRequest(
  registry: string,
  path: string,
  opts: RegistryOptions & Omit<HttpOptions, 'ca'> = {},
): Promise<HttpResponse> {
  const url = baseUrl(registry, opts) + path;
  const first = await httpRequest(url, { ...opts, ca: opts.ca });
  if (first.status !== 401) return first;
  const challenge = String(first.headers['www-authenticate'] ?? '');
  const [scheme, params = ''] = challenge.split(/ (.*)/s);
  let authorization: string;
  if (scheme.toLowerCase() === 'basic') {
    if (!opts.creds) return first;
    authorization = basic(opts.creds);
  } else if (scheme.toLowerCase() === 'bearer') {
    const p = Object.fromEntries([...params.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const tokenUrl = new URL(p.realm);
    if (p.service) tokenUrl.searchParams.set('service', p.service);
    if (p.scope) tokenUrl.searchParams.set('scope', p.scope);
    const t = await httpRequest(tokenUrl.toString(), {
      headers: opts.creds ? { Authorization: basic(opts.creds) } : {},
      ca: opts.ca,
    });
    if (t.status !== 200) return t;
    const doc = JSON.parse(t.body.toString()) as { token?: string; access_token?: string };
    authorization = 'Bearer ' + (doc.token ?? doc.access_token);
  } else {
    return first;
  }
  return httpRequest(url, { ...opts, ca: opts.ca, headers: { ...opts.headers, Authorization: authorization } });
}

export function getManifest(registry: string, repo: string, ref: string, opts: RegistryOptions = {}): Promise<HttpResponse> {
  return registryRequest(registry, `/v2/${repo}/manifests/${ref}`, { ...opts, headers: { Accept: MANIFEST_ACCEPT } });
}

export function getBlob(registry: string, repo: string, digest: string, opts: RegistryOptions = {}): Promise<HttpResponse> {
  return registryRequest(registry, `/v2/${repo}/blobs/${digest}`, opts);
}
