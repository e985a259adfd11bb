// Reads layer blobs the way a test wants to look at them: decompress by media type, then list the
// tar members with their raw names (ustar, pax and GNU long names); and writes the simplest
// layers (regular files) for images a test publishes itself. Independent of core/layer.

import * as zlib from 'node:zlib';

export interface TarMember {
  /** The name exactly as the archive spells it (pax path or GNU long name when present). */
  name: string;
  /** The ustar type flag: '0' file, '1' hardlink, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo. */
  typeflag: string;
  linkname: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  data: Buffer;
}

export function decompressLayer(blob: Buffer, mediaType: string): Buffer {
  if (mediaType.endsWith('+gzip') || mediaType.endsWith('.tar.gzip')) return zlib.gunzipSync(blob);
  if (mediaType.endsWith('+zstd')) return zlib.zstdDecompressSync(blob);
  if (mediaType.endsWith('.tar')) return blob;
  throw new Error(`unknown layer media type ${mediaType}`);
}

function str(b: Buffer, off: number, len: number): string {
  const s = b.subarray(off, off + len);
  const nul = s.indexOf(0);
  return (nul < 0 ? s : s.subarray(0, nul)).toString('utf8');
}

function num(b: Buffer, off: number, len: number): number {
  if (b[off] & 0x80) {
    // base-256, for values that do not fit in octal digits
    let v = b[off] & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + b[off + i];
    return v;
  }
  const s = str(b, off, len).trim();
  return s ? parseInt(s, 8) : 0;
}

function paxRecords(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const len = parseInt(data.subarray(pos, space).toString(), 10);
    if (!(len > 0)) break;
    const rec = data.subarray(space + 1, pos + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    out[rec.slice(0, eq)] = rec.slice(eq + 1);
    pos += len;
  }
  return out;
}

export function listTar(tar: Buffer): TarMember[] {
  const members: TarMember[] = [];
  let pos = 0;
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  while (pos + 512 <= tar.length) {
    const h = tar.subarray(pos, pos + 512);
    if (h.every((x) => x === 0)) break;
    const size = num(h, 124, 12);
    const typeflag = String.fromCharCode(h[156] || 0x30);
    const data = tar.subarray(pos + 512, pos + 512 + size);
    pos += 512 + Math.ceil(size / 512) * 512;
    if (typeflag === 'x') {
      pax = { ...pax, ...paxRecords(data) };
      continue;
    }
    if (typeflag === 'g') continue;
    if (typeflag === 'L' || typeflag === 'K') {
      const v = str(data, 0, data.length);
      if (typeflag === 'L') longName = v;
      else longLink = v;
      continue;
    }
    const prefix = h.subarray(257, 263).toString('latin1').startsWith('ustar') ? str(h, 345, 155) : '';
    const shortName = prefix ? `${prefix}/${str(h, 0, 100)}` : str(h, 0, 100);
    members.push({
      name: pax.path ?? longName ?? shortName,
      typeflag,
      linkname: pax.linkpath ?? longLink ?? str(h, 157, 100),
      mode: num(h, 100, 8),
      uid: pax.uid !== undefined ? Number(pax.uid) : num(h, 108, 8),
      gid: pax.gid !== undefined ? Number(pax.gid) : num(h, 116, 8),
      size,
      data: Buffer.from(data),
    });
    pax = {};
    longName = longLink = undefined;
  }
  return members;
}

/** A ustar archive of regular files (mode 0644, owner 0:0, mtime in seconds, default 0). */
export function tarOfFiles(files: { name: string; data: Buffer; mtime?: number }[]): Buffer {
  const out: Buffer[] = [];
  for (const f of files) {
    const h = Buffer.alloc(512);
    h.write(f.name, 0, 100);
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(f.data.length.toString(8).padStart(11, '0') + '\0', 124);
    h.write((f.mtime ?? 0).toString(8).padStart(11, '0') + '\0', 136);
    h.fill(0x20, 148, 156);
    h.write('0', 156);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    out.push(h, f.data, Buffer.alloc((512 - (f.data.length % 512)) % 512));
  }
  out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}
