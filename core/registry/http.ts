// The transport under the registry client: node:http/https with keep-alive agents (one pool per
// registry endpoint and TLS setting, bounded sockets), one request at a time, and network errors
// worded as Go's net/http words them (podman's messages quote those).

import * as http from 'node:http';
import * as https from 'node:https';
import * as tls from 'node:tls';
import * as crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { TspodError, describe } from '../errors';

export interface TlsSettings {
  /** Verify the server's certificate (the default); false also allows plain HTTP fallback. */
  verify: boolean;
  /** Extra CA certificates (PEM) trusted besides the system's. */
  ca: string[];
  cert?: string;
  key?: string;
}

export interface SendOptions {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  body?: Buffer | Readable;
  /** Content-Length of a streamed body. */
  bodyLength?: number;
  tls: TlsSettings;
  /** Socket inactivity limit, also while the body is read. */
  timeoutMs?: number;
}

/** How many connections one registry endpoint may have open; more requests wait in the agent. */
export const MAX_SOCKETS_PER_REGISTRY = 6;
export const DEFAULT_TIMEOUT_MS = 60_000;

const agents = new Map<string, http.Agent>();

function fingerprint(parts: (string | undefined)[]): string {
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(p ?? '\0').update('\0');
  return h.digest('hex').slice(0, 16);
}

function defaultCAs(): readonly string[] {
  // getCACertificates('default') includes NODE_EXTRA_CA_CERTS; older Nodes only have the bundle.
  const get = (tls as unknown as { getCACertificates?: (t: string) => string[] }).getCACertificates;
  return get ? get('default') : tls.rootCertificates;
}

function agentFor(url: URL, t: TlsSettings): http.Agent {
  const secure = url.protocol === 'https:';
  const key = secure ? `${url.host}|https|${t.verify}|${fingerprint([...t.ca, t.cert, t.key])}` : `${url.host}|http`;
  let agent = agents.get(key);
  if (!agent) {
    const common = { keepAlive: true, maxSockets: MAX_SOCKETS_PER_REGISTRY, maxFreeSockets: MAX_SOCKETS_PER_REGISTRY, scheduling: 'lifo' as const };
    agent = secure
      ? new https.Agent({
          ...common,
          rejectUnauthorized: t.verify,
          ca: t.ca.length ? [...defaultCAs(), ...t.ca] : undefined,
          cert: t.cert,
          key: t.key,
        })
      : new http.Agent(common);
    agents.set(key, agent);
  }
  return agent;
}

/** Closes every pooled connection (tests; a CLI process exits without it: idle sockets are unref'd). */
export function closeAllAgents(): void {
  for (const a of agents.values()) a.destroy();
  agents.clear();
}

/** Sends one request and resolves with the response head; the body is the caller's to consume. */
export function send(o: SendOptions): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const secure = o.url.protocol === 'https:';
    const mod = secure ? https : http;
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (Buffer.isBuffer(o.body)) headers['Content-Length'] = String(o.body.length);
    else if (o.body && o.bodyLength !== undefined) headers['Content-Length'] = String(o.bodyLength);
    const req = mod.request(o.url, { method: o.method, headers, agent: agentFor(o.url, o.tls) });
    let response: http.IncomingMessage | undefined;
    const timeout = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    req.setTimeout(timeout, () => {
      const err = Object.assign(new Error('i/o timeout'), { code: 'ETIMEDOUT' });
      req.destroy(err);
      response?.destroy(err);
    });
    req.on('error', (err) => {
      if (response) response.destroy(err);
      else reject(err);
    });
    req.on('response', (res) => {
      response = res;
      resolve(res);
    });
    if (o.body === undefined || Buffer.isBuffer(o.body)) {
      req.end(o.body);
    } else {
      o.body.on('error', (err) => req.destroy(err));
      o.body.pipe(req);
    }
  });
}

/** Reads a whole (small) body, refusing one larger than `limit` bytes. */
export async function readBody(res: Readable, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of res) {
    const b = chunk as Buffer;
    n += b.length;
    if (n > limit) {
      res.destroy();
      throw new TspodError(`${what} is larger than the limit of ${limit} bytes`);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks, n);
}

/** Discards a body so that its connection can be reused. */
export function discard(res: http.IncomingMessage): void {
  res.resume();
  res.on('error', () => undefined);
}

/** `Get`, `Head`: how Go's http client names methods in errors. */
function goMethod(method: string): string {
  return method.charAt(0).toUpperCase() + method.slice(1).toLowerCase();
}

function hostPort(address: string | undefined, port: number | undefined): string {
  if (!address) return '';
  const a = address.includes(':') ? `[${address}]` : address;
  return port ? `${a}:${port}` : a;
}

const UNKNOWN_AUTHORITY = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
]);

/** The text of a network or TLS error in Go's words, without the `Get "url":` part. */
export function networkErrorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number; hostname?: string; reason?: string; host?: string };
  const code = e?.code ?? '';
  const msg = typeof e?.message === 'string' ? e.message : String(err);
  const at = hostPort(e?.address, e?.port);
  switch (code) {
    case 'ECONNREFUSED':
      return `dial tcp ${at}: connect: connection refused`;
    case 'EHOSTUNREACH':
      return `dial tcp ${at}: connect: no route to host`;
    case 'ENETUNREACH':
      return `dial tcp ${at}: connect: network is unreachable`;
    case 'ENOTFOUND':
      return `dial tcp: lookup ${e.hostname ?? ''}: no such host`;
    case 'EAI_AGAIN':
      return `dial tcp: lookup ${e.hostname ?? ''}: temporary failure in name resolution`;
    case 'ETIMEDOUT':
      return at ? `dial tcp ${at}: i/o timeout` : 'i/o timeout';
    case 'ECONNRESET':
      return 'connection reset by peer';
    case 'EPIPE':
      return 'broken pipe';
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
      return 'x509: certificate has expired or is not yet valid';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `x509: certificate is not valid for ${e.host ?? 'this host'}${e.reason ? ` (${e.reason})` : ''}`;
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'ERR_SSL_PACKET_LENGTH_TOO_LONG':
    case 'ERR_SSL_HTTP_REQUEST':
      return 'http: server gave HTTP response to HTTPS client';
  }
  if (UNKNOWN_AUTHORITY.has(code)) return 'x509: certificate signed by unknown authority';
  if (code === 'EPROTO' && /wrong version number|packet length too long|http request/i.test(msg)) {
    return 'http: server gave HTTP response to HTTPS client';
  }
  return describe(err);
}

/** `Get "https://host/v2/": dial tcp 127.0.0.1:5000: connect: connection refused` */
export function requestErrorText(method: string, url: URL | string, err: unknown): string {
  return `${goMethod(method)} "${String(url)}": ${networkErrorText(err)}`;
}

/** Errors worth another attempt: the connection broke or the peer was briefly away. */
export function isTransientNetworkError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return (
    code === 'ECONNRESET' ||
    code === 'ECONNREFUSED' ||
    code === 'ETIMEDOUT' ||
    code === 'EPIPE' ||
    code === 'ECONNABORTED' ||
    code === 'EAI_AGAIN' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    code === 'UND_ERR_SOCKET' ||
    (err instanceof Error && /^(aborted|socket hang up)$/.test(err.message))
  );
}

/** HTTP statuses worth another attempt. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}
