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

/** Encodes an op's header and names; for 'f' the caller writes `size` content bytes after it. */
export function encodeOp(op: Op): Buffer {
  const path = Buffer.from(op.path, 'utf8');
  const link = Buffer.from(op.link ?? '', 'utf8');
  let xlen = 0;
  const xparts: Buffer[] = [];
  for (const [name, value] of op.xattrs ?? []) {
    const n = Buffer.from(name, 'utf8');
    const hdr = Buffer.alloc(4);
    hdr.writeUInt32LE(n.length, 0);
    const vhdr = Buffer.alloc(4);
    vhdr.writeUInt32LE(value.length, 0);
    xparts.push(hdr, n, vhdr, value);
    xlen += 8 + n.length + value.length;
  }
  const h = Buffer.alloc(OP_HEADER_SIZE);
  h.write(op.kind, 0, 'latin1');
  h.writeUInt32LE((op.mode ?? 0) & 0o7777, 4);
  h.writeUInt32LE(op.uid ?? 0, 8);
  h.writeUInt32LE(op.gid ?? 0, 12);
  h.writeUInt32LE(op.devmajor ?? 0, 16);
  h.writeUInt32LE(op.devminor ?? 0, 20);
  h.writeBigInt64LE(BigInt(Math.trunc(op.mtimeSec ?? 0)), 24);
  h.writeUInt32LE(op.mtimeNsec ?? 0, 32);
  h.writeUInt32LE(path.length, 36);
  h.writeUInt32LE(link.length, 40);
  h.writeUInt32LE(xlen, 44);
  h.writeBigUInt64LE(BigInt(op.kind === 'f' ? op.size ?? 0 : 0), 48);
  return Buffer.concat([h, path, link, ...xparts]);
}

export interface UnpackReport {
  entries: number;
  devicesSkipped: number;
  xattrsSkipped: number;
  chownCollapsed: number;
  warnings: string[];
}
