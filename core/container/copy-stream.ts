// The streams of `tspod cp`: the host's files as an op stream (userns-helper/PROTOCOL.md) for the
// helper to write into a container, and the helper's op stream of a container's files as a tar
// archive (`cp CONTAINER:PATH -`). Names are "binary" strings (one character per byte, as the op
// writer takes them) so that names which are not UTF-8 are copied byte for byte.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { TspodError } from '../errors';
import { OpWriter } from '../layer/op-writer';
import { OPS_MAGIC, OP_HEADER_SIZE, type Op } from '../layer/ops';

/** A path of the op stream: `base/rel` without empty parts ('' is the destination root). */
export function joinOpPath(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}

/** A container path (UTF-8, absolute) as an op path relative to the container's root. */
export function opPathOf(containerPath: string): string {
  return Buffer.from(containerPath.replace(/^\/+/, ''), 'utf8').toString('latin1');
}

/** Where ops go, with backpressure and the helper's failure noticed while waiting. */
export interface OpSinkLike {
  stream: NodeJS.WritableStream;
  /** Rejects as soon as the helper at the other end has failed or gone. */
  failed: Promise<never>;
}

export async function drain(writer: OpWriter, sink: OpSinkLike): Promise<void> {
  writer.flush();
  if (!writer.blocked) return;
  writer.blocked = false;
  await Promise.race([new Promise<void>((resolve) => sink.stream.once('drain', () => resolve())), sink.failed]);
}

/**
 * The op writer for a tar archive copied in (`cp - CONTAINER:DIR`): every entry moved beneath
 * `base`, and owned by `owner` unless the archive's owners are kept.
 */
export class RebasedOpWriter extends OpWriter {
  constructor(
    stream: NodeJS.WritableStream,
    private readonly base: string,
    private readonly owner: { uid: number; gid: number } | undefined,
  ) {
    super(stream);
  }

  override op(op: Op): void {
    if (op.kind === 'E') return super.op(op);
    super.op({
      ...op,
      path: joinOpPath(this.base, op.path),
      ...(op.kind === 'h' ? { link: joinOpPath(this.base, op.link ?? '') } : {}),
      ...(this.owner ? { uid: this.owner.uid, gid: this.owner.gid } : {}),
    });
  }
}

export interface HostTreeOptions {
  /** Owner written into the container: fixed (root by default), or the host file's own ids (-a). */
  owner: { uid: number; gid: number } | 'keep';
  warn(message: string): void;
}

const CHUNK = 1 << 20;

/**
 * Writes the host tree at `src` (its top entry named `top`, a binary op path) as ops. Symlinks
 * inside are copied as symlinks; hard links within the tree stay links; sockets are skipped.
 * A file that changes size while it is read is cut or padded to the size first seen, as tar does.
 */
export async function writeHostTree(src: Buffer, top: string, writer: OpWriter, sink: OpSinkLike, o: HostTreeOptions, contents = false): Promise<void> {
  const links = new Map<string, string>();
  const walk = async (host: Buffer, opPath: string, isTop: boolean): Promise<void> => {
    const st = fs.lstatSync(host, { bigint: true });
    const base = {
      path: opPath,
      mode: Number(st.mode & 0o7777n),
      uid: o.owner === 'keep' ? Number(st.uid) : o.owner.uid,
      gid: o.owner === 'keep' ? Number(st.gid) : o.owner.gid,
      mtimeSec: Number(st.mtimeNs / 1_000_000_000n),
      mtimeNsec: Number(st.mtimeNs % 1_000_000_000n),
    };
    if (st.isDirectory()) {
      if (!(isTop && contents)) writer.op({ kind: 'd', ...base });
      const names = (fs.readdirSync(host, { encoding: 'buffer' }) as Buffer[]).sort(Buffer.compare);
      for (const name of names) {
        await walk(Buffer.concat([host, Buffer.from('/'), name]), joinOpPath(opPath, name.toString('latin1')), false);
      }
      return;
    }
    if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      if (st.nlink > 1n) {
        const first = links.get(key);
        if (first !== undefined) {
          writer.op({ kind: 'h', path: opPath, link: first });
          return;
        }
        links.set(key, opPath);
      }
      await writeFile(host, Number(st.size), { kind: 'f', ...base, size: Number(st.size) }, writer, sink);
      return;
    }
    if (st.isSymbolicLink()) {
      writer.op({ kind: 'l', ...base, link: (fs.readlinkSync(host, { encoding: 'buffer' }) as Buffer).toString('latin1') });
    } else if (st.isFIFO()) {
      writer.op({ kind: 'p', ...base });
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      const rdev = Number(st.rdev);
      const major = ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
      const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
      writer.op({ kind: st.isCharacterDevice() ? 'c' : 'b', ...base, devmajor: major, devminor: minor });
    } else {
      o.warn(`skipping ${host.toString()}: sockets are not copied`);
    }
    if (writer.pending >= CHUNK) await drain(writer, sink);
  };
  await walk(src, top, true);
}

async function writeFile(host: Buffer, size: number, op: Op, writer: OpWriter, sink: OpSinkLike): Promise<void> {
  const fd = fs.openSync(host, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  try {
    writer.op(op);
    let left = size;
    while (left > 0) {
      // A fresh buffer per piece: the writer may send it as it is, after we go on.
      const piece = Buffer.alloc(Math.min(CHUNK, left));
      const n = fs.readSync(fd, piece, 0, piece.length, null);
      writer.data(n === 0 ? piece : piece.subarray(0, n)); // shrunk meanwhile: zeros
      left -= n === 0 ? piece.length : n;
      if (writer.pending >= CHUNK || writer.blocked) await drain(writer, sink);
    }
  } finally {
    fs.closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------
// Op stream -> tar

const BLOCK = 512;
const TYPEFLAG: Record<string, string> = { f: '0', h: '1', l: '2', c: '3', b: '4', d: '5', p: '6' };

interface OpHeader {
  kind: string;
  mode: number;
  uid: number;
  gid: number;
  devmajor: number;
  devminor: number;
  mtime: number;
  pathLen: number;
  linkLen: number;
  xattrLen: number;
  size: number;
}

function octal(buf: Buffer, off: number, len: number, value: number): boolean {
  const s = value.toString(8);
  if (s.length > len - 1) {
    buf.write('0'.repeat(len - 1), off, 'latin1');
    return false;
  }
  buf.write(s.padStart(len - 1, '0'), off, 'latin1');
  return true;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const rest = 1 + key.length + 1 + value.length + 1; // ' ' key '=' value '\n'
  let len = rest + 1;
  while (String(len).length + rest !== len) len = String(len).length + rest;
  return Buffer.concat([Buffer.from(`${len} ${key}=`, 'latin1'), value, Buffer.from('\n')]);
}

function ustar(name: Buffer, typeflag: string, h: OpHeader, link: Buffer, size: number): { block: Buffer; pax: Buffer[] } {
  const b = Buffer.alloc(BLOCK);
  const pax: Buffer[] = [];
  if (name.length > 100) pax.push(paxRecord('path', name));
  name.copy(b, 0, 0, Math.min(100, name.length));
  octal(b, 100, 8, h.mode);
  if (!octal(b, 108, 8, h.uid)) pax.push(paxRecord('uid', Buffer.from(String(h.uid))));
  if (!octal(b, 116, 8, h.gid)) pax.push(paxRecord('gid', Buffer.from(String(h.gid))));
  if (!octal(b, 124, 12, size)) pax.push(paxRecord('size', Buffer.from(String(size))));
  octal(b, 136, 12, Math.max(0, h.mtime));
  b.write(typeflag, 156, 'latin1');
  if (link.length > 100) pax.push(paxRecord('linkpath', link));
  link.copy(b, 157, 0, Math.min(100, link.length));
  b.write('ustar\u000000', 257, 'latin1');
  octal(b, 329, 8, h.devmajor);
  octal(b, 337, 8, h.devminor);
  return { block: b, pax };
}

function checksum(b: Buffer): void {
  b.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
}

/** The tar entry (with a pax header before it where ustar's fields are too small) of one op. */
export function tarEntry(h: OpHeader, name: Buffer, link: Buffer): Buffer[] {
  const typeflag = TYPEFLAG[h.kind];
  const fullName = h.kind === 'd' ? Buffer.concat([name, Buffer.from('/')]) : name;
  const { block, pax } = ustar(fullName, typeflag, h, link, h.kind === 'f' ? h.size : 0);
  checksum(block);
  if (pax.length === 0) return [block];
  const body = Buffer.concat(pax);
  const paxName = Buffer.from(`PaxHeaders/${path.posix.basename(fullName.toString('latin1'))}`.slice(0, 100), 'latin1');
  const ph = ustar(paxName, 'x', { ...h, kind: 'x', mode: 0o644 }, Buffer.alloc(0), body.length).block;
  checksum(ph);
  return [ph, body, Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK), block];
}

/** Turns the helper's op stream into a tar archive, content streamed through as it arrives. */
export class OpsToTar extends Transform {
  private state: 'magic' | 'header' | 'names' | 'content' | 'done' = 'magic';
  private pending: Buffer[] = [];
  private have = 0;
  private need = OPS_MAGIC.length;
  private h: OpHeader | undefined;
  private remain = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.consume(chunk);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    cb(this.state === 'done' ? undefined : new TspodError('the copy stream from the container ended early'));
  }

  private gathered(): Buffer {
    const all = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    this.pending = [];
    this.have = 0;
    return all;
  }

  private consume(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length && this.state !== 'done') {
      if (this.state === 'content') {
        const n = Math.min(this.remain, chunk.length - pos);
        this.push(chunk.subarray(pos, pos + n));
        pos += n;
        this.remain -= n;
        if (this.remain === 0) this.endContent();
        continue;
      }
      const n = Math.min(this.need - this.have, chunk.length - pos);
      this.pending.push(chunk.subarray(pos, pos + n));
      this.have += n;
      pos += n;
      if (this.have === this.need) this.step(this.gathered());
    }
  }

  private step(b: Buffer): void {
    if (this.state === 'magic') {
      if (!b.equals(OPS_MAGIC)) throw new TspodError('the copy stream from the container is corrupt');
      this.expect('header', OP_HEADER_SIZE);
      return;
    }
    if (this.state === 'header') {
      const h: OpHeader = {
        kind: String.fromCharCode(b[0]),
        mode: b.readUInt32LE(4),
        uid: b.readUInt32LE(8),
        gid: b.readUInt32LE(12),
        devmajor: b.readUInt32LE(16),
        devminor: b.readUInt32LE(20),
        mtime: b.readUInt32LE(24) + b.readInt32LE(28) * 2 ** 32,
        pathLen: b.readUInt32LE(36),
        linkLen: b.readUInt32LE(40),
        xattrLen: b.readUInt32LE(44),
        size: b.readUInt32LE(48) + b.readUInt32LE(52) * 2 ** 32,
      };
      if (h.kind === 'E') {
        this.push(Buffer.alloc(2 * BLOCK));
        this.state = 'done';
        return;
      }
      this.h = h;
      const names = h.pathLen + h.linkLen + h.xattrLen;
      if (names === 0) this.names(Buffer.alloc(0));
      else this.expect('names', names);
      return;
    }
    this.names(b);
  }

  private names(b: Buffer): void {
    const h = this.h!;
    const name = b.subarray(0, h.pathLen);
    const link = b.subarray(h.pathLen, h.pathLen + h.linkLen);
    if (TYPEFLAG[h.kind]) for (const piece of tarEntry(h, name, link)) this.push(piece);
    if (h.kind === 'f' && h.size > 0) {
      this.state = 'content';
      this.remain = h.size;
    } else {
      this.expect('header', OP_HEADER_SIZE);
    }
  }

  private endContent(): void {
    const pad = (BLOCK - (this.h!.size % BLOCK)) % BLOCK;
    if (pad) this.push(Buffer.alloc(pad));
    this.expect('header', OP_HEADER_SIZE);
  }

  private expect(state: 'header' | 'names', n: number): void {
    this.state = state;
    this.need = n;
  }
}
