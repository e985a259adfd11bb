// The op stream that tspod sends to `tspod-helper unpack` (see userns-helper/PROTOCOL.md).
// Node parses tar; the helper, inside the user namespace, writes the files.

export const OPS_MAGIC = Buffer.from('TSPODOPS1\n', 'latin1');
export const OP_HEADER_SIZE = 56;

export type OpKind = 'f' | 'd' | 'l' | 'h' | 'c' | 'b' | 'p' | 'w' | 'o' | 'E';

export interface Op {
  kind: OpKind;
  /** Relative to the layer root, clean; '' is the root itself. */
  path: string;
  mode?: number;
  uid?: number;
  gid?: number;
  devmajor?: number;
  devminor?: number;
  mtimeSec?: number;
  mtimeNsec?: number;
  /** Symlink target, or for 'h' the hardlink target (relative to the layer root). */
  link?: string;
  xattrs?: Array<[string, Buffer]>;
  /** Content length for 'f'; the content itself follows the header on the stream. */
  size?: number;
}

/**
 * How the strings of an Op become bytes: 'utf8' for ordinary text; 'latin1' when each character
 * stands for one raw byte, as names read from a tar header do (they need not be UTF-8, and a
 * layer's file names must arrive byte for byte).
 */
export type OpEncoding = 'utf8' | 'latin1';

/** Bytes that writeOp will take for `op` (its header and names, not the file content). */
export function opSize(op: Op, enc: OpEncoding = 'utf8'): number {
  let n = OP_HEADER_SIZE + Buffer.byteLength(op.path, enc) + Buffer.byteLength(op.link ?? '', enc);
  for (const [name, value] of op.xattrs ?? []) n += 8 + Buffer.byteLength(name, enc) + value.length;
  return n;
}

/**
 * Writes an op's header and names into `buf` at `off` (room for opSize bytes required) and
 * returns the bytes written; for 'f' the caller then writes `size` content bytes.
 */
export function writeOp(op: Op, buf: Buffer, off: number, enc: OpEncoding = 'utf8'): number {
  const h = off;
  let p = h + OP_HEADER_SIZE;
  const pathLen = buf.write(op.path, p, enc);
  p += pathLen;
  const linkLen = buf.write(op.link ?? '', p, enc);
  p += linkLen;
  const xattrStart = p;
  for (const [name, value] of op.xattrs ?? []) {
    const n = buf.write(name, p + 4, enc);
    buf.writeUInt32LE(n, p);
    p += 4 + n;
    buf.writeUInt32LE(value.length, p);
    p += 4 + value.copy(buf, p + 4);
  }
  const mtime = Math.trunc(op.mtimeSec ?? 0);
  buf.writeUInt32LE(op.kind.charCodeAt(0), h); // kind, then three zero pad bytes
  buf.writeUInt32LE((op.mode ?? 0) & 0o7777, h + 4);
  buf.writeUInt32LE(op.uid ?? 0, h + 8);
  buf.writeUInt32LE(op.gid ?? 0, h + 12);
  buf.writeUInt32LE(op.devmajor ?? 0, h + 16);
  buf.writeUInt32LE(op.devminor ?? 0, h + 20);
  buf.writeUInt32LE(mtime >>> 0, h + 24); // i64: low word, then the high word with the sign
  buf.writeInt32LE(Math.floor(mtime / 2 ** 32), h + 28);
  buf.writeUInt32LE(op.mtimeNsec ?? 0, h + 32);
  buf.writeUInt32LE(pathLen, h + 36);
  buf.writeUInt32LE(linkLen, h + 40);
  buf.writeUInt32LE(p - xattrStart, h + 44);
  const size = op.kind === 'f' ? op.size ?? 0 : 0;
  buf.writeUInt32LE(size >>> 0, h + 48); // u64 from a safe integer
  buf.writeUInt32LE(Math.floor(size / 2 ** 32), h + 52);
  return p - off;
}

/** Encodes an op's header and names; for 'f' the caller writes `size` content bytes after it. */
export function encodeOp(op: Op, enc: OpEncoding = 'utf8'): Buffer {
  const buf = Buffer.allocUnsafe(opSize(op, enc));
  writeOp(op, buf, 0, enc);
  return buf;
}

export interface UnpackReport {
  entries: number;
  devicesSkipped: number;
  xattrsSkipped: number;
  chownCollapsed: number;
  warnings: string[];
}
