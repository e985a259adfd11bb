// Streaming layer unpack, Node side: blob -> decompression -> diff_id hash -> tar -> op stream.
//
// The unpacker at the other end of the op stream (tspod-helper unpack, see core/helper.ts) does
// the writes inside the user namespace, contained beneath the destination. This side decides
// what each entry means (names cleaned, whiteouts converted, hostile entries refused) and checks
// the layer's diff_id before the final 'E' record, so an unpacker never completes a layer whose
// content was not the image's.

import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { TspodError, wrap } from '../errors';
import { log } from '../log';
import { detectCompression, ZstdFrameSplitter, type Compression } from './compression';
import { OpWriter } from './op-writer';
import type { UnpackReport } from './ops';
import { TarToOps } from './tar-ops';

export { detectCompression } from './compression';

/** Where the ops go: the same shape as core/helper.ts's Unpacker. */
export interface OpSink {
  /** The op stream, its magic already written. */
  stream: NodeJS.WritableStream;
  /** Settles when the unpacker has finished (after the 'E' record) or failed. */
  done: Promise<UnpackReport>;
  abort(): void;
}

export interface UnpackLayerOptions {
  /** "sha256:…" from the image config's rootfs.diff_ids; a mismatch fails and aborts the sink. */
  expectedDiffId?: string;
  sink: OpSink;
  /** Called as the uncompressed tar streams by, with the bytes so far. */
  onProgress?: (uncompressedBytes: number) => void;
  /** Names the layer in messages, normally the blob digest. */
  layerName?: string;
  /** Receives warnings, each kind once per layer; by default log.warnOnce (once per process). */
  warn?: (key: string, message: string) => void;
}

export interface UnpackResult {
  diffId: string;
  /** Bytes of the uncompressed tar. */
  size: number;
  report: UnpackReport;
}

/**
 * The decompressors write 128 KiB chunks and may run up to 1 MiB ahead of the parsing, so that
 * decompression (on the thread pool) overlaps hashing and parsing (on the main thread).
 */
const ZLIB_OPTIONS = { chunkSize: 128 * 1024, readableHighWaterMark: 1024 * 1024 };
/** Batched ops are written once this much is waiting (and always before waiting for drain). */
const FLUSH_AT = 64 * 1024;

/**
 * Unpacks one layer blob (gzip, zstd or plain tar, detected by its first bytes) into the sink
 * and returns its diff_id. Any failure aborts the sink and throws a TspodError naming the layer.
 */
export async function unpackLayer(blob: NodeJS.ReadableStream, opts: UnpackLayerOptions): Promise<UnpackResult> {
  const label = opts.layerName ? `layer ${opts.layerName}` : 'layer';
  const warned = new Set<string>();
  const warn = (key: string, message: string): void => {
    if (warned.has(key)) return;
    warned.add(key);
    (opts.warn ?? log.warnOnce)(key, `${label}: ${message}`);
  };
  const { sink } = opts;
  const watch = new SinkWatch(sink);
  const input = blob instanceof Readable ? blob : new Readable().wrap(blob);
  let compression: Compression = 'none';
  try {
    const algorithm = diffIdAlgorithm(opts.expectedDiffId);
    const hash = createHash(algorithm);
    const writer = new OpWriter(sink.stream);
    const tar = new TarToOps(writer, { warn });
    let size = 0;

    const consume = async (chunks: AsyncIterable<Buffer>): Promise<void> => {
      try {
        for await (const chunk of chunks) {
          hash.update(chunk);
          size += chunk.length;
          tar.push(chunk);
          if (writer.pending >= FLUSH_AT) writer.flush();
          if (writer.blocked) await watch.drain(writer);
          watch.check();
          opts.onProgress?.(size);
        }
      } catch (err) {
        // Settles a read that may be waiting on the network, so that the pipeline can unwind.
        input.destroy();
        throw err;
      }
    };

    const chunks = input[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
    const head = await readHead(chunks, 4);
    compression = detectCompression(Buffer.concat(head));
    const source = (async function* () {
      yield* head;
      for (let r = await chunks.next(); !r.done; r = await chunks.next()) yield asBuffer(r.value);
    })();
    if (compression === 'gzip') {
      await pipeline(source, zlib.createGunzip(ZLIB_OPTIONS), consume);
    } else if (compression === 'zstd') {
      const splitter = new ZstdFrameSplitter();
      const frames = async function* (raw: AsyncIterable<Buffer>) {
        for await (const chunk of raw) yield* splitter.split(chunk);
        splitter.end();
      };
      await pipeline(source, frames, zlib.createZstdDecompress(ZLIB_OPTIONS), consume);
    } else {
      await consume(source);
    }
    tar.end();
    writer.flush();
    if (writer.blocked) await watch.drain(writer);

    const diffId = `${algorithm}:${hash.digest('hex')}`;
    if (opts.expectedDiffId && diffId !== opts.expectedDiffId) {
      throw new TspodError(`content digest ${diffId} does not match the image's diff_id ${opts.expectedDiffId}`);
    }
    writer.op({ kind: 'E', path: '' });
    writer.flush();
    sink.stream.end();
    const report = await sink.done;
    reportWarnings(report, warn);
    return { diffId, size, report };
  } catch (err) {
    input.destroy();
    sink.abort();
    throw layerError(label, compression, err);
  }
}

/**
 * Follows the sink: a refusal by the unpacker (its `done` rejecting) or its end before the
 * layer's end stops the unpack, including a wait for 'drain' that would otherwise never end.
 */
class SinkWatch {
  private error: unknown;
  private wake: (() => void) | undefined;

  constructor(private readonly sink: OpSink) {
    sink.done.then(
      () => this.fail(new TspodError('the unpacker stopped before the end of the layer')),
      (err: unknown) => this.fail(err),
    );
    // A stream error is followed by 'close'; `done` normally explains it a moment later.
    sink.stream.on('error', () => undefined);
    sink.stream.once('close', () => {
      setTimeout(() => this.fail(new TspodError('the unpacker closed its input')), 2000).unref();
    });
  }

  check(): void {
    if (this.error !== undefined) throw this.error;
  }

  drain(writer: OpWriter): Promise<void> {
    writer.blocked = false;
    this.check();
    return new Promise((resolve, reject) => {
      const onDrain = (): void => {
        this.wake = undefined;
        resolve();
      };
      this.sink.stream.once('drain', onDrain);
      this.wake = () => {
        this.sink.stream.removeListener('drain', onDrain);
        reject(this.error);
      };
    });
  }

  private fail(err: unknown): void {
    if (this.error !== undefined) return;
    this.error = err;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

async function readHead(chunks: AsyncIterator<Uint8Array>, n: number): Promise<Buffer[]> {
  const head: Buffer[] = [];
  let have = 0;
  while (have < n) {
    const r = await chunks.next();
    if (r.done) break;
    const b = asBuffer(r.value);
    head.push(b);
    have += b.length;
  }
  return head;
}

function asBuffer(chunk: Uint8Array | string): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') throw new TspodError('layer blob stream must not have an encoding set');
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

function diffIdAlgorithm(expected: string | undefined): 'sha256' | 'sha512' {
  if (expected === undefined) return 'sha256';
  if (/^sha256:[0-9a-f]{64}$/.test(expected)) return 'sha256';
  if (/^sha512:[0-9a-f]{128}$/.test(expected)) return 'sha512';
  throw new TspodError(`unsupported diff_id ${JSON.stringify(expected)} in the image config`);
}

function layerError(label: string, compression: Compression, err: unknown): TspodError {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && /^(Z_|ZSTD_)/.test(code) && err instanceof Error) {
    return new TspodError(`${label}: corrupt ${compression} stream: ${err.message}`, { cause: err });
  }
  return wrap(label, err);
}

function reportWarnings(report: UnpackReport, warn: (key: string, message: string) => void): void {
  // chownCollapsed is left to the caller, which knows the id mapping and can say why.
  if (report.devicesSkipped > 0) {
    warn('layer-devices', `skipped ${report.devicesSkipped} device node(s): they cannot be created in a user namespace`);
  }
  if (report.xattrsSkipped > 0) {
    warn('layer-xattrs', `skipped ${report.xattrsSkipped} extended attribute(s) that the file system or the user namespace does not permit`);
  }
  for (const w of report.warnings ?? []) warn(`layer-helper: ${w}`, w);
}
