// Decoding of tar headers: the 512-byte ustar/GNU/v7 block and pax extended records.
//
// Names are returned as "binary" strings (latin1: one character per byte) so that file names
// that are not UTF-8 survive byte for byte; the op stream writes them back with 'latin1'.
// Semantics follow Go's archive/tar, the reader behind docker, podman and umoci, so that a layer
// means the same thing here as there.

export const BLOCK = 512;

/** Type flags (the byte at offset 156). */
export const T = {
  OLDFILE: 0, // '\0'
  FILE: 0x30, // '0'
  LINK: 0x31,
  SYMLINK: 0x32,
  CHAR: 0x33,
  BLOCK: 0x34,
  DIR: 0x35,
  FIFO: 0x36,
  CONTIGUOUS: 0x37,
  GNU_DUMPDIR: 0x44, // 'D'
  GNU_LONGLINK: 0x4b, // 'K'
  GNU_LONGNAME: 0x4c, // 'L'
  GNU_SPARSE: 0x53, // 'S'
  PAX_GLOBAL: 0x67, // 'g'
  PAX: 0x78, // 'x'
  PAX_SOLARIS: 0x58, // 'X', the same as 'x'
} as const;

export interface TarHeader {
  name: string;
  linkname: string;
  typeflag: number;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  devmajor: number;
  devminor: number;
}

/** Thrown for a block that is not a valid header; the caller says where. */
export class HeaderError extends Error {}

/**
 * Decodes the header block at `off`. Returns undefined for an all-zero block (end of archive).
 * Throws HeaderError on a bad checksum or a malformed number.
 */
export function decodeHeader(b: Buffer, off: number): TarHeader | undefined {
  // The checksum counts its own field as eight spaces; some old tars summed signed bytes.
  let unsigned = 8 * 0x20;
  for (let i = off; i < off + 148; i++) unsigned += b[i];
  for (let i = off + 156; i < off + BLOCK; i++) unsigned += b[i];
  if (unsigned === 8 * 0x20 && isZero(b, off + 148, off + 156)) return undefined;
  const sum = number(b, off + 148, 8);
  if (sum !== unsigned && sum !== signedSum(b, off)) throw new HeaderError('checksum mismatch');

  // ustar ("ustar\0" "00"), GNU ("ustar  \0") or v7 (no magic): only ustar has the name prefix,
  // and star's variant of it is shorter (the last bytes hold atime and ctime).
  const ustar = b.toString('latin1', off + 257, off + 265);
  const isUstar = ustar === 'ustar\x0000';
  const hasExtras = isUstar || ustar === 'ustar  \x00';
  let name = cstring(b, off, 100);
  if (isUstar) {
    const star = b.toString('latin1', off + 508, off + 512) === 'tar\x00';
    const prefix = cstring(b, off + 345, star ? 131 : 155);
    if (prefix) name = prefix + '/' + name;
  }
  return {
    name,
    linkname: cstring(b, off + 157, 100),
    typeflag: b[off + 156],
    mode: number(b, off + 100, 8),
    uid: number(b, off + 108, 8),
    gid: number(b, off + 116, 8),
    size: number(b, off + 124, 12),
    mtime: number(b, off + 136, 12, true),
    devmajor: hasExtras ? number(b, off + 329, 8) : 0,
    devminor: hasExtras ? number(b, off + 337, 8) : 0,
  };
}

function signedSum(b: Buffer, off: number): number {
  let sum = 8 * 0x20;
  for (let i = off; i < off + BLOCK; i++) if (i < off + 148 || i >= off + 156) sum += b[i] < 128 ? b[i] : b[i] - 256;
  return sum;
}

export function isZero(b: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i] !== 0) return false;
  return true;
}

function cstring(b: Buffer, off: number, len: number): string {
  let end = b.indexOf(0, off);
  if (end < 0 || end > off + len) end = off + len;
  return b.toString('latin1', off, end);
}

/** An octal field (spaces and NULs around it), or GNU base-256 when the high bit is set. */
function number(b: Buffer, off: number, len: number, allowNegative = false): number {
  const end = off + len;
  if (b[off] & 0x80) {
    // Base-256, two's complement: 0x80 marks a positive number, 0xff a negative one.
    const negative = b[off] === 0xff;
    if (negative && !allowNegative) throw new HeaderError('negative number');
    let v = BigInt(b[off] & 0x7f) - (negative ? 128n : 0n);
    for (let i = off + 1; i < end; i++) v = (v << 8n) | BigInt(b[i]);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) throw new HeaderError('number out of range');
    return Number(v);
  }
  let i = off;
  while (i < end && (b[i] === 0x20 || b[i] === 0)) i++;
  let v = 0;
  for (; i < end; i++) {
    const c = b[i];
    if (c < 0x30 || c > 0x37) break;
    v = v * 8 + (c - 0x30);
  }
  for (; i < end; i++) if (b[i] !== 0x20 && b[i] !== 0) throw new HeaderError('malformed number');
  if (v > Number.MAX_SAFE_INTEGER) throw new HeaderError('number out of range');
  return v;
}

// ---------------------------------------------------------------------------------------------
// pax extended headers

export interface PaxRecords {
  path?: string;
  linkpath?: string;
  size?: number;
  uid?: number;
  gid?: number;
  mtimeSec?: number;
  mtimeNsec?: number;
  /** name (binary string) -> raw value */
  xattrs?: Map<string, Buffer>;
  /** GNU sparse-file records were present. */
  sparse?: boolean;
}

/**
 * Parses a pax header body ("%d %s=%s\n" records) into `into`, byte-exact: node-tar's own pax
 * reader decodes the body as UTF-8 text and drops SCHILY.xattr records, but a value such as
 * security.capability is binary. Later records override earlier ones. Throws HeaderError.
 */
export function parsePax(body: Buffer, into: PaxRecords): PaxRecords {
  let pos = 0;
  while (pos < body.length) {
    const sp = body.indexOf(0x20, pos);
    if (sp < 0 || sp - pos > 20) throw new HeaderError('malformed pax record');
    const len = decimal(body.toString('latin1', pos, sp));
    if (len === undefined) throw new HeaderError('malformed pax record');
    const end = pos + len;
    if (end > body.length || end <= sp + 1 || body[end - 1] !== 0x0a) {
      throw new HeaderError('malformed pax record');
    }
    const eq = body.indexOf(0x3d, sp + 1);
    if (eq < 0 || eq >= end - 1) throw new HeaderError('malformed pax record');
    applyRecord(body.toString('latin1', sp + 1, eq), body.subarray(eq + 1, end - 1), into);
    pos = end;
  }
  return into;
}

function applyRecord(key: string, value: Buffer, r: PaxRecords): void {
  // An empty value deletes the keyword: the header's own field applies again.
  switch (key) {
    case 'path':
      r.path = value.length ? value.toString('latin1') : undefined;
      return;
    case 'linkpath':
      r.linkpath = value.length ? value.toString('latin1') : undefined;
      return;
    case 'size':
    case 'uid':
    case 'gid': {
      if (!value.length) {
        r[key] = undefined;
        return;
      }
      const n = decimal(value.toString('latin1'));
      if (n === undefined) throw new HeaderError(`malformed pax ${key}`);
      r[key] = n;
      return;
    }
    case 'mtime': {
      if (!value.length) {
        r.mtimeSec = r.mtimeNsec = undefined;
        return;
      }
      const t = paxTime(value.toString('latin1'));
      if (!t) throw new HeaderError('malformed pax mtime');
      [r.mtimeSec, r.mtimeNsec] = t;
      return;
    }
  }
  if (key.startsWith('SCHILY.xattr.')) {
    (r.xattrs ??= new Map()).set(key.slice(13), Buffer.from(value));
  } else if (key.startsWith('LIBARCHIVE.xattr.')) {
    // bsdtar: the name is %-encoded, the value base64.
    const name = key.slice(17).replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    (r.xattrs ??= new Map()).set(name, Buffer.from(value.toString('latin1'), 'base64'));
  } else if (key.startsWith('GNU.sparse.')) {
    r.sparse = true;
  }
}

function decimal(s: string): number | undefined {
  if (!/^[0-9]{1,16}$/.test(s)) return undefined;
  const n = Number(s);
  return n <= Number.MAX_SAFE_INTEGER ? n : undefined;
}

/** "sec[.frac]", possibly negative, to [seconds, nanoseconds] with 0 <= ns < 1e9. */
export function paxTime(s: string): [number, number] | undefined {
  const m = /^(-?)([0-9]{1,16})(?:\.([0-9]*))?$/.exec(s);
  if (!m) return undefined;
  let sec = Number(m[2]);
  let nsec = Number((m[3] ?? '').slice(0, 9).padEnd(9, '0'));
  if (m[1]) {
    sec = -sec;
    if (nsec) {
      sec -= 1;
      nsec = 1e9 - nsec;
    }
  }
  return [sec, nsec];
}
