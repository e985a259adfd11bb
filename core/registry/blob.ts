// Blob download: GET /v2/NAME/blobs/DIGEST, streamed, its size and digest checked as it streams.
//   - bytes beyond the descriptor's size are refused at once, a digest mismatch at the end;
//   - a broken connection (reset, refused, timeout, early EOF) or a 429/5xx is retried after a
//     short backoff, resuming with `Range: bytes=N-`; a registry that answers 200 instead of 206
//     sends the blob from the start again: its first N bytes are hashed afresh and must equal what
//     was already delivered, the rest continues the stream;
//   - a redirect (to a CDN, typically) is followed without our Authorization header;
//   - a descriptor's `urls` (foreign layers) are tried when the registry does not have the blob.

import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { Readable } from 'node:stream';
import { Reference } from '../reference';
import { wrap } from '../errors';
import { log } from '../log';
import { isTransientNetworkError, networkErrorText } from './http';
import { checkDescriptor, Descriptor, digestAlgorithm } from './manifest';
import { RegistryError } from './registry-error';
import { backoffMs, RETRY_ATTEMPTS, sleep, withRetries } from './retry';
import { blobPath, RegistryOptions, RepoClient, responseError } from './session';

export interface OpenBlobOptions extends RegistryOptions {
  /** Called as bytes arrive with the number of bytes delivered so far. */
  onProgress?: (bytes: number) => void;
}

/** Reconnections of one blob in all, however much progress each made. */
const MAX_RECONNECTS = 16;

/** Adds context to a RegistryError, keeping what kind it is. */
export function prefixed(what: string, err: unknown): Error {
  if (err instanceof RegistryError) {
    return new RegistryError(`${what}: ${err.message}`, { kind: err.kind, status: err.status, transient: err.transient, retryAfter: err.retryAfter, cause: err });
  }
  return wrap(what, err);
}

interface Opened {
  res: http.IncomingMessage;
  /** The offset of the first byte of the body in the blob. */
  start: number;
}

/** Opens the blob from a given offset, from the registry or (for foreign layers) its urls. */
class BlobSource {
  private source: string | undefined;

  constructor(
    private readonly client: RepoClient,
    private readonly desc: Descriptor,
    readonly what: string,
  ) {}

  async open(pos: number): Promise<Opened> {
    const headers: Record<string, string> = pos > 0 ? { Range: `bytes=${pos}-` } : {};
    const candidates = this.source !== undefined ? [this.source] : [blobPath(this.client.repoPath, this.desc.digest), ...(this.desc.urls ?? [])];
    let lastError: Error | undefined;
    for (const src of candidates) {
      let res: http.IncomingMessage;
      try {
        ({ res } = await this.client.request('GET', src, { headers }));
      } catch (err) {
        throw prefixed(this.what, err);
      }
      const status = res.statusCode ?? 0;
      if (status === 404 && candidates.length > 1 && src !== candidates[candidates.length - 1]) {
        lastError = await responseError(this.what, res);
        continue;
      }
      if (status === 200 || (status === 206 && pos > 0)) {
        this.source = src;
        return { res, start: status === 206 ? this.checkRange(res, pos) : this.checkLength(res) };
      }
      throw await responseError(this.what, res);
    }
    throw lastError ?? new RegistryError(`${this.what}: no source`, { kind: 'not-found' });
  }

  private refuse(res: http.IncomingMessage, msg: string): never {
    res.destroy();
    throw new RegistryError(`${this.what}: ${msg}`, { kind: 'protocol' });
  }

  private checkLength(res: http.IncomingMessage): number {
    const len = res.headers['content-length'];
    if (len !== undefined && Number(len) > this.desc.size) {
      this.refuse(res, `the registry sends ${len} bytes, more than the ${this.desc.size} the manifest declares`);
    }
    return 0;
  }

  private checkRange(res: http.IncomingMessage, pos: number): number {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
    if (!m) this.refuse(res, `invalid Content-Range ${JSON.stringify(res.headers['content-range'] ?? '')} in a partial response`);
    if (Number(m[1]) !== pos) this.refuse(res, `the registry resumed at byte ${m[1]}, not at ${pos} as asked`);
    if (m[3] !== '*' && Number(m[3]) !== this.desc.size) {
      this.refuse(res, `the registry says the blob has ${m[3]} bytes, the manifest declares ${this.desc.size}`);
    }
    return pos;
  }
}

/** The blob's bytes as they arrive; see the top of this file for what is checked. */
async function* blobChunks(src: BlobSource, first: Opened, desc: Descriptor, onProgress?: (n: number) => void): AsyncGenerator<Buffer> {
  const alg = digestAlgorithm(desc.digest);
  const what = src.what;
  let hash = crypto.createHash(alg);
  let pos = 0; // bytes of the blob hashed in the current pass
  let emitted = 0; // bytes delivered downstream (pos < emitted only while re-reading after a restart)
  let checkpoint: string | undefined; // digest of the first `emitted` bytes, taken when a pass restarts
  let current: Opened = first;
  let stalled = 0; // failures in a row without progress
  let reconnects = 0;

  const fail = (msg: string) => new RegistryError(`${what}: ${msg}`, { kind: 'protocol' });

  try {
    for (;;) {
      if (current.start === 0 && pos > 0) {
        // The registry ignored our Range: hash from zero again and check the part already sent.
        if (pos === emitted) checkpoint = hash.copy().digest('hex');
        hash = crypto.createHash(alg);
        pos = 0;
      }
      const mark = pos;
      let failure: unknown;
      try {
        for await (const chunk of current.res) {
          let buf = chunk as Buffer;
          if (pos + buf.length > desc.size) {
            throw fail(`the registry sends more than the ${desc.size} bytes the manifest declares`);
          }
          if (pos < emitted) {
            const head = buf.subarray(0, emitted - pos);
            hash.update(head);
            pos += head.length;
            if (pos === emitted && hash.copy().digest('hex') !== checkpoint) {
              throw fail('the registry sent different content when the download was restarted');
            }
            buf = buf.subarray(head.length);
            if (buf.length === 0) continue;
          }
          hash.update(buf);
          pos += buf.length;
          emitted = pos;
          onProgress?.(emitted);
          yield buf;
        }
      } catch (err) {
        if (err instanceof RegistryError || !isTransientNetworkError(err)) throw err instanceof RegistryError ? err : prefixed(what, err);
        failure = err;
      }
      if (failure === undefined) {
        if (pos === desc.size) break;
        failure = Object.assign(new Error('unexpected EOF'), { code: 'EOF' });
      }
      if (!current.res.complete) current.res.destroy();

      // Reconnect from where the hash stands, a few times in a row without progress at most.
      if (pos > mark) stalled = 0;
      let text = (failure as { code?: string }).code === 'EOF' ? 'unexpected EOF' : networkErrorText(failure);
      let retryAfter: string | undefined;
      for (;;) {
        stalled++;
        reconnects++;
        if (stalled >= RETRY_ATTEMPTS || reconnects > MAX_RECONNECTS) {
          throw new RegistryError(`${what}: ${text} (${emitted} of ${desc.size} bytes received, gave up after ${reconnects} attempts)`, {
            kind: 'network',
            transient: true,
            cause: failure,
          });
        }
        const delay = backoffMs(stalled, retryAfter);
        log.debug(`${what}: ${text}; resuming at byte ${pos} in ${delay} ms`);
        await sleep(delay);
        try {
          current = await src.open(pos);
          break;
        } catch (err) {
          if (!(err instanceof RegistryError) || !err.transient) throw err;
          failure = err;
          text = err.message.startsWith(`${what}: `) ? err.message.slice(what.length + 2) : err.message;
          retryAfter = err.retryAfter;
        }
      }
    }
    const actual = `${alg}:${hash.digest('hex')}`;
    if (actual !== desc.digest) throw fail(`digest mismatch: expected ${desc.digest}, got ${actual}`);
  } finally {
    if (!current.res.complete) current.res.destroy();
  }
}

/** A blob stream for a client in hand (resolveImage reads configs through it). */
export async function openBlobWith(client: RepoClient, desc: Descriptor, onProgress?: (n: number) => void): Promise<Readable> {
  const what = `reading blob ${desc.digest} in ${client.name}`;
  const src = new BlobSource(client, desc, what);
  const first = await withRetries(what, () => src.open(0));
  return Readable.from(blobChunks(src, first, desc, onProgress), { objectMode: false });
}

/**
 * The bytes of a blob as they arrive (resuming transparently); the stream errors if the size or
 * digest does not match the descriptor. The promise rejects when the registry refuses the blob.
 */
export async function openBlob(ref: Reference, desc: Descriptor, opts: OpenBlobOptions = {}): Promise<Readable> {
  const d = checkDescriptor(desc, 'blob descriptor');
  const client = new RepoClient(ref, opts, 'pull');
  return openBlobWith(client, d, opts.onProgress);
}

/** A whole small blob (a config), checked, at most `limit` bytes. */
export async function readBlobWith(client: RepoClient, desc: Descriptor, limit: number): Promise<Buffer> {
  if (desc.size > limit) {
    throw new RegistryError(`reading blob ${desc.digest} in ${client.name}: its declared size ${desc.size} exceeds the limit of ${limit} bytes`, { kind: 'protocol' });
  }
  const stream = await openBlobWith(client, desc);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
