// Test-side counterparts of the unpacker's op stream (userns-helper/PROTOCOL.md): a decoder, a
// sink that records the stream in memory the way `tspod-helper unpack` would read it, and small
// tar builders for archives that `tar.create` will not make (hostile names, pax records, GNU
// long names, devices).

import { Writable } from 'node:stream';
import { Header } from 'tar';
import { OP_HEADER_SIZE, OPS_MAGIC, type Op, type OpKind, type UnpackReport } from '../../core/layer/ops';

export interface DecodedOp extends Op {
  /** The path and link as bytes (the strings are their UTF-8 decoding). */
  rawPath: Buffer;
  rawLink: Buffer;
  /** File content for 'f'. */
  content?: Buffer;
}

/** Decodes a whole op stream (magic first). Throws on anything the protocol does not allow. */
export function decodeOps(stream: Buffer): DecodedOp[] {
  if (!stream.subarray(0, OPS_MAGIC.length).equals(OPS_MAGIC)) throw new Error('op stream: bad magic');
  const ops: DecodedOp[] = [];
  let p = OPS_MAGIC.length;
  while (p < stream.length) {
    if (p + OP_HEADER_SIZE > stream.length) throw new Error(`op stream: truncated header at ${p}`);
    const h = stream.subarray(p, p + OP_HEADER_SIZE);
    const kind = String.fromCharCode(h[0]) as OpKind;
    if (!'fdlhcbpwoE'.includes(kind)) throw new Error(`op stream: unknown kind ${JSON.stringify(kind)} at ${p}`);
    if (h[1] || h[2] || h[3]) throw new Error('op stream: non-zero pad');
    const pathLen = h.readUInt32LE(36);
    const linkLen = h.readUInt32LE(40);
    const xattrLen = h.readUInt32LE(44);
    const size = Number(h.readBigUInt64LE(48));
    if (kind !== 'f' && size !== 0) throw new Error(`op stream: size on a '${kind}' op`);
    p += OP_HEADER_SIZE;
    const rawPath = stream.subarray(p, (p += pathLen));
    const rawLink = stream.subarray(p, (p += linkLen));
    const xend = p + xattrLen;
    const xattrs: Array<[string, Buffer]> = [];
    while (p < xend) {
      const n = stream.readUInt32LE(p);
      const name = stream.subarray(p + 4, p + 4 + n).toString('utf8');
      p += 4 + n;
      const v = stream.readUInt32LE(p);
      xattrs.push([name, Buffer.from(stream.subarray(p + 4, p + 4 + v))]);
      p += 4 + v;
    }
    if (p !== xend) throw new Error('op stream: xattr block overrun');
    const op: DecodedOp = {
      kind,
      path: rawPath.toString('utf8'),
      mode: h.readUInt32LE(4),
      uid: h.readUInt32LE(8),
      gid: h.readUInt32LE(12),
      devmajor: h.readUInt32LE(16),
      devminor: h.readUInt32LE(20),
      mtimeSec: Number(h.readBigInt64LE(24)),
      mtimeNsec: h.readUInt32LE(32),
      rawPath: Buffer.from(rawPath),
      rawLink: Buffer.from(rawLink),
    };
    if (linkLen) op.link = rawLink.toString('utf8');
    if (xattrs.length) op.xattrs = xattrs;
    if (kind === 'f') {
      if (p + size > stream.length) throw new Error(`op stream: truncated content of ${op.path}`);
      op.size = size;
      op.content = Buffer.from(stream.subarray(p, p + size));
      p += size;
    }
    ops.push(op);
    if (kind === 'E' && p !== stream.length) throw new Error('op stream: data after the E record');
  }
  return ops;
}

export interface MemorySinkOptions {
  /** What `done` resolves with (entries is filled in from the stream when absent). */
  report?: Partial<UnpackReport>;
  /** Refuse like a helper would once this many bytes arrived: `done` rejects, the stream closes. */
  failAfter?: number;
  /** Delay each write's completion (a slow consumer) and use this high-water mark. */
  delayMs?: number;
  highWaterMark?: number;
}

export interface MemorySink {
  stream: Writable;
  done: Promise<UnpackReport>;
  abort(): void;
  aborted: boolean;
  /** Sizes of the writes received (magic excluded). */
  writes: number[];
  /** Largest amount ever buffered in the stream, waiting to be consumed. */
  maxBuffered: number;
  bytes(): Buffer;
  ops(): DecodedOp[];
}

/** A sink that keeps the op stream in memory; `done` settles on finish, abort or failAfter. */
export function memorySink(opts: MemorySinkOptions = {}): MemorySink {
  const chunks: Buffer[] = [OPS_MAGIC];
  let received = 0;
  let settle: { resolve(r: UnpackReport): void; reject(e: Error): void } | undefined;
  const done = new Promise<UnpackReport>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => undefined);
  const sink: MemorySink = {
    stream: new Writable({
      highWaterMark: opts.highWaterMark ?? 16 * 1024,
      write(chunk: Buffer, _enc, cb) {
        chunks.push(Buffer.from(chunk));
        sink.writes.push(chunk.length);
        received += chunk.length;
        if (opts.failAfter !== undefined && received >= opts.failAfter) {
          settle?.reject(new Error('entry "victim": refused by the test sink'));
          // Like a helper that exited: it reads no more.
          return;
        }
        if (opts.delayMs) setTimeout(cb, opts.delayMs);
        else cb();
      },
    }),
    done,
    aborted: false,
    abort() {
      sink.aborted = true;
      sink.stream.destroy();
      settle?.reject(new Error('unpacker killed by SIGKILL'));
    },
    writes: [],
    maxBuffered: 0,
    bytes: () => Buffer.concat(chunks),
    ops: () => decodeOps(Buffer.concat(chunks)),
  };
  const write = sink.stream.write.bind(sink.stream);
  sink.stream.write = ((chunk: Buffer, ...rest: never[]) => {
    const ok = write(chunk, ...rest);
    sink.maxBuffered = Math.max(sink.maxBuffered, sink.stream.writableLength);
    return ok;
  }) as typeof sink.stream.write;
  sink.stream.on('finish', () => {
    const ops = decodeOps(Buffer.concat(chunks));
    settle?.resolve({
      entries: ops.filter((o) => o.kind !== 'E').length,
      devicesSkipped: 0,
      xattrsSkipped: 0,
      chownCollapsed: 0,
      warnings: [],
      ...opts.report,
    });
  });
  return sink;
}

// ---------------------------------------------------------------------------------------------
// Tar builders

export interface EntrySpec {
  name: string;
  /** node-tar type name ('File', 'Directory', 'SymbolicLink', 'Link', ...) or a one-char code. */
  type?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  content?: Buffer | string;
  /** Size field when it must differ from the content's length. */
  size?: number;
  /** Replaces the name field with these bytes (names that are not UTF-8). */
  rawName?: Buffer;
}

/** One ustar header block (with a correct checksum), its content and padding. */
export function tarEntry(spec: EntrySpec): Buffer {
  const content = typeof spec.content === 'string' ? Buffer.from(spec.content) : spec.content ?? Buffer.alloc(0);
  const block = Buffer.alloc(512);
  new Header({
    path: spec.name,
    type: (spec.type ?? 'File') as 'File', // the setter takes any type name or one-char code
    mode: spec.mode ?? 0o644,
    uid: spec.uid ?? 0,
    gid: spec.gid ?? 0,
    size: spec.size ?? content.length,
    mtime: new Date((spec.mtime ?? 1_600_000_000) * 1000),
    linkpath: spec.linkname ?? '',
    uname: '',
    gname: '',
    devmaj: spec.devmajor ?? 0,
    devmin: spec.devminor ?? 0,
  }).encode(block);
  if (spec.rawName) {
    block.fill(0, 0, 100);
    spec.rawName.copy(block, 0);
    block.fill(0, 345, 500); // no ustar prefix
    fixChecksum(block);
  }
  return Buffer.concat([block, content, Buffer.alloc((512 - (content.length % 512)) % 512)]);
}

/** Recomputes a header block's checksum after it was edited by hand. */
export function fixChecksum(block: Buffer): void {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += block[i];
  block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
}

/** One pax record: "<len> key=value\n", the length counting itself. */
export function paxRecord(key: string, value: Buffer | string): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.from(value), Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

/** A pax extended header ('x', or 'g' for global) with the given records or raw body. */
export function paxHeader(records: Array<[string, Buffer | string]> | Buffer, global = false): Buffer {
  const body = Buffer.isBuffer(records) ? records : Buffer.concat(records.map(([k, v]) => paxRecord(k, v)));
  return tarEntry({ name: 'PaxHeaders/x', type: global ? 'GlobalExtendedHeader' : 'ExtendedHeader', content: body });
}

/** A GNU long name ('L') or long link ('K') header for the entry that follows. */
export function gnuLong(kind: 'L' | 'K', value: string): Buffer {
  return tarEntry({ name: '././@LongLink', type: kind, content: Buffer.concat([Buffer.from(value), Buffer.alloc(1)]) });
}

/** The two zero blocks that end an archive. */
export function tarEnd(): Buffer {
  return Buffer.alloc(1024);
}
