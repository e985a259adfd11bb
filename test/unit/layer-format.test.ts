// The pieces under the layer unpacker: name cleaning, whiteout names, compression magic, tar
// header and pax decoding, the op encoding, and the zstd frame splitter.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as zlib from 'node:zlib';
import { Header } from 'tar';
import { detectCompression, ZstdFrameSplitter } from '../../core/layer/compression';
import { cleanPath, showName, whiteout } from '../../core/layer/entry-path';
import { encodeOp, OP_HEADER_SIZE, OPS_MAGIC, opSize, writeOp } from '../../core/layer/ops';
import { decodeHeader, HeaderError, parsePax, paxTime, type PaxRecords } from '../../core/layer/tar-header';
import { decodeOps, fixChecksum, paxRecord, tarEntry } from '../lib/ops-decode';

const clean: Array<[string, string | undefined]> = [
  ['usr/bin/env', 'usr/bin/env'],
  ['./usr/bin/', 'usr/bin'],
  ['/etc/passwd', 'etc/passwd'],
  ['//etc//passwd', 'etc/passwd'],
  ['a/./b/.//c/', 'a/b/c'],
  ['a/../b', 'b'],
  ['a/b/..', 'a'],
  ['a/..', ''],
  ['./', ''],
  ['.', ''],
  ['/', ''],
  ['', ''],
  ['..x', '..x'],
  ['...', '...'],
  ['a/...b/..c', 'a/...b/..c'],
  ['../x', undefined],
  ['..', undefined],
  ['a/../../x', undefined],
  ['/../etc/passwd', undefined],
  ['./../x', undefined],
  ['a/b/../../../c', undefined],
];
for (const [name, want] of clean) {
  test(`cleanPath(${JSON.stringify(name)}) is ${JSON.stringify(want)}`, () => {
    assert.is(cleanPath(name), want);
  });
}

const whiteouts: Array<[string, ReturnType<typeof whiteout>]> = [
  ['usr/bin/env', { kind: 'none' }],
  ['a.wh.b', { kind: 'none' }],
  ['etc/.wh.passwd', { kind: 'whiteout', path: 'etc/passwd' }],
  ['.wh.etc', { kind: 'whiteout', path: 'etc' }],
  ['.wh....', { kind: 'whiteout', path: '...' }],
  ['var/cache/.wh..wh..opq', { kind: 'opaque', path: 'var/cache' }],
  ['.wh..wh..opq', { kind: 'opaque', path: '' }],
  ['.wh..wh.plnk', { kind: 'meta' }],
  ['.wh..wh.plnk/123.456', { kind: 'meta' }],
  ['a/.wh..wh.aufs', { kind: 'meta' }],
  ['.wh.', { kind: 'invalid', reason: 'is a whiteout of nothing' }],
  ['a/.wh..', { kind: 'invalid', reason: 'is a whiteout of nothing' }],
  ['.wh...', { kind: 'invalid', reason: 'is a whiteout of nothing' }],
  ['.wh.x/y', { kind: 'invalid', reason: 'uses a whiteout name as a directory' }],
];
for (const [path, want] of whiteouts) {
  test(`whiteout(${JSON.stringify(path)})`, () => {
    assert.equal(whiteout(path), want);
  });
}

test('showName prints binary names as escaped UTF-8 on one line', () => {
  assert.is(showName(Buffer.from('caf\u00e9\n', 'utf8').toString('latin1')), '"caf\u00e9\\n"');
  assert.is(showName('a\0b'), '"a\\u0000b"');
});

test('detectCompression reads the magic bytes', () => {
  assert.is(detectCompression(Buffer.from([0x1f, 0x8b, 8, 0])), 'gzip');
  assert.is(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
  assert.is(detectCompression(Buffer.from([0x5e, 0x2a, 0x4d, 0x18])), 'zstd'); // skippable frame first
  assert.is(detectCompression(Buffer.from('usr/')), 'none');
  assert.is(detectCompression(Buffer.from([0x1f])), 'none');
  assert.is(detectCompression(Buffer.alloc(0)), 'none');
  assert.is(detectCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0])), 'none'); // xz is not a layer format
});

const times: Array<[string, [number, number] | undefined]> = [
  ['1700000000', [1700000000, 0]],
  ['1700000000.123456789', [1700000000, 123456789]],
  ['1700000000.5', [1700000000, 500000000]],
  ['1.1234567891', [1, 123456789]],
  ['-1.25', [-2, 750000000]],
  ['-3', [-3, 0]],
  ['1.', [1, 0]],
  ['x', undefined],
  ['1.2.3', undefined],
  ['', undefined],
];
for (const [s, want] of times) {
  test(`paxTime(${JSON.stringify(s)})`, () => {
    assert.equal(paxTime(s), want);
  });
}

test('parsePax keeps binary xattr values and decodes bsdtar xattrs', () => {
  const cap = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0xff, 0x80, 0x0a, 0x3d, 0x00]);
  const body = Buffer.concat([
    paxRecord('path', 'a/very/long/name'),
    paxRecord('mtime', '1700000000.000000042'),
    paxRecord('uid', '100000'),
    paxRecord('SCHILY.xattr.security.capability', cap),
    paxRecord('LIBARCHIVE.xattr.user.%C3%A9t%3D', Buffer.from([0x80, 0x81, 0xfe]).toString('base64')),
    paxRecord('atime', '1.5'),
  ]);
  const r: PaxRecords = parsePax(body, {});
  assert.is(r.path, 'a/very/long/name');
  assert.equal([r.mtimeSec, r.mtimeNsec], [1700000000, 42]);
  assert.is(r.uid, 100000);
  assert.ok(r.xattrs?.get('security.capability')?.equals(cap));
  const name = Buffer.from('user.\u00e9t=', 'utf8').toString('latin1');
  assert.equal([...(r.xattrs?.get(name) ?? [])], [0x80, 0x81, 0xfe]);
});

test('parsePax: an empty value deletes the keyword; later records win', () => {
  const r = parsePax(Buffer.concat([paxRecord('path', 'x'), paxRecord('uid', '7'), paxRecord('path', '')]), {});
  assert.is(r.path, undefined);
  assert.is(r.uid, 7);
});

for (const [what, body] of [
  ['a wrong length', Buffer.from('99 path=x\n')],
  ['no newline at the end', Buffer.from('9 path=xy')],
  ['no length', Buffer.from('path=x\n')],
  ['no equals sign', Buffer.from('8 pathx\n\n')],
  ['a non-numeric uid', paxRecord('uid', '12a')],
  ['a malformed mtime', paxRecord('mtime', 'soon')],
] as Array<[string, Buffer]>) {
  test(`parsePax refuses ${what}`, () => {
    assert.throws(() => parsePax(body, {}), (e: unknown) => e instanceof HeaderError);
  });
}

test('parsePax notes GNU sparse records', () => {
  assert.is(parsePax(paxRecord('GNU.sparse.major', '1'), {}).sparse, true);
});

function block(spec: Parameters<typeof tarEntry>[0]): Buffer {
  return tarEntry(spec).subarray(0, 512);
}

test('decodeHeader reads a ustar header made by node-tar', () => {
  const b = block({ name: 'usr/bin/env', mode: 0o4755, uid: 1000, gid: 100, mtime: 1234567890, content: 'abc' });
  assert.equal(decodeHeader(b, 0), {
    name: 'usr/bin/env',
    linkname: '',
    typeflag: 0x30,
    mode: 0o4755,
    uid: 1000,
    gid: 100,
    size: 3,
    mtime: 1234567890,
    devmajor: 0,
    devminor: 0,
  });
});

test('decodeHeader joins the ustar prefix', () => {
  const long = 'd'.repeat(120) + '/file';
  assert.is(decodeHeader(block({ name: long }), 0)?.name, long);
});

test('decodeHeader reads device numbers of GNU-format headers, none of v7 ones', () => {
  const gnu = block({ name: 'dev/null', type: 'CharacterDevice', devmajor: 1, devminor: 3 });
  gnu.write('ustar  \0', 257, 'latin1');
  fixChecksum(gnu);
  assert.equal([decodeHeader(gnu, 0)?.devmajor, decodeHeader(gnu, 0)?.devminor], [1, 3]);
  const v7 = block({ name: 'dev/null', type: 'CharacterDevice', devmajor: 1, devminor: 3 });
  v7.fill(0, 257, 265);
  fixChecksum(v7);
  assert.equal([decodeHeader(v7, 0)?.devmajor, decodeHeader(v7, 0)?.devminor], [0, 0]);
});

test('decodeHeader reads base-256 numbers, negative mtimes included', () => {
  const b = block({ name: 'big' });
  b.fill(0, 124, 136);
  b[124] = 0x80;
  b.writeUIntBE(2 ** 40 + 5, 130, 6);
  b.fill(0xff, 136, 148); // -1 in two's complement
  fixChecksum(b);
  const h = decodeHeader(b, 0);
  assert.is(h?.size, 2 ** 40 + 5);
  assert.is(h?.mtime, -1);
});

test('decodeHeader accepts a checksum of signed bytes', () => {
  const b = block({ name: 'x' });
  b.write('\u00e9', 0, 'latin1'); // a byte >= 0x80 makes the two sums differ
  let signed = 0;
  for (let i = 0; i < 512; i++) signed += i >= 148 && i < 156 ? 0x20 : b[i] < 128 ? b[i] : b[i] - 256;
  b.write(signed.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  assert.is(decodeHeader(b, 0)?.name, '\u00e9');
});

test('decodeHeader: zero block, bad checksum, bad number', () => {
  assert.is(decodeHeader(Buffer.alloc(512), 0), undefined);
  const bad = block({ name: 'x' });
  bad[0] ^= 1;
  assert.throws(() => decodeHeader(bad, 0), /checksum mismatch/);
  const num = block({ name: 'x' });
  num.write('12x', 100, 'latin1');
  fixChecksum(num);
  assert.throws(() => decodeHeader(num, 0), /malformed number/);
});

test('decodeHeader stops a name at its NUL, as tar readers do', () => {
  const b = block({ name: 'x' });
  b.write('a\0junk\nmore', 0, 'latin1');
  fixChecksum(b);
  assert.is(decodeHeader(b, 0)?.name, 'a');
  assert.ok(new Header(b).path !== 'a', 'node-tar reads past the NUL here, which is why headers are decoded here');
});

test('writeOp lays out the header as PROTOCOL.md says', () => {
  const op = {
    kind: 'f' as const,
    path: 'usr/bin/\u00e9',
    mode: 0o104755,
    uid: 100000,
    gid: 7,
    mtimeSec: -2,
    mtimeNsec: 999999999,
    size: 2 ** 33 + 1,
    xattrs: [['user.k', Buffer.from([0xff, 0])]] as Array<[string, Buffer]>,
  };
  const b = encodeOp(op);
  assert.is(b.length, opSize(op));
  assert.is(b.length, OP_HEADER_SIZE + 10 + (4 + 6 + 4 + 2));
  assert.equal([...b.subarray(0, 4)], [0x66, 0, 0, 0]);
  assert.is(b.readUInt32LE(4), 0o4755);
  assert.is(b.readUInt32LE(8), 100000);
  assert.is(b.readUInt32LE(12), 7);
  assert.is(b.readBigInt64LE(24), -2n);
  assert.is(b.readUInt32LE(32), 999999999);
  assert.is(b.readUInt32LE(36), 10);
  assert.is(b.readUInt32LE(40), 0);
  assert.is(b.readUInt32LE(44), 16);
  assert.is(b.readBigUInt64LE(48), 2n ** 33n + 1n);
  assert.is(b.subarray(56, 66).toString('utf8'), 'usr/bin/\u00e9');
  assert.equal([...b.subarray(66)], [6, 0, 0, 0, ...Buffer.from('user.k'), 2, 0, 0, 0, 0xff, 0]);
});

test("writeOp with 'latin1' writes binary strings byte for byte and fills a shared buffer", () => {
  const raw = Buffer.from([0x61, 0xff, 0xfe]);
  const op = { kind: 'l' as const, path: raw.toString('latin1'), link: '/t' };
  const buf = Buffer.alloc(200, 0xaa);
  const n = writeOp(op, buf, 7, 'latin1');
  assert.is(n, opSize(op, 'latin1'));
  assert.is(buf[6], 0xaa);
  assert.is(buf[7 + n], 0xaa);
  const [decoded] = decodeOps(Buffer.concat([OPS_MAGIC, buf.subarray(7, 7 + n)]));
  assert.ok(decoded.rawPath.equals(raw));
  assert.is(decoded.link, '/t');
  assert.is(decoded.size, undefined);
});

function zstdStream(): { stream: Buffer; frames: Array<[number, number]> } {
  const parts: Buffer[] = [];
  const frames: Array<[number, number]> = [];
  let at = 0;
  const add = (b: Buffer): void => {
    parts.push(b);
    frames.push([at, at + b.length]);
    at += b.length;
  };
  const skippable = Buffer.alloc(8 + 300, 0x5a);
  skippable.writeUInt32LE(0x184d2a5e, 0);
  skippable.writeUInt32LE(300, 4);
  add(zlib.zstdCompressSync(Buffer.alloc(300 * 1024, 1))); // RLE-friendly, several blocks
  add(skippable);
  add(zlib.zstdCompressSync(Buffer.from('x'.repeat(10))));
  add(zlib.zstdCompressSync(Buffer.alloc(0)));
  add(zlib.zstdCompressSync(require('node:crypto').randomBytes(200 * 1024), { params: { [zlib.constants.ZSTD_c_checksumFlag]: 1 } }));
  return { stream: Buffer.concat(parts), frames };
}

for (const step of [1, 3, 4096, 1 << 20]) {
  test(`ZstdFrameSplitter never lets a piece run past a frame's end (chunks of ${step})`, () => {
    const { stream, frames } = zstdStream();
    const splitter = new ZstdFrameSplitter();
    const pieces: Array<[number, number]> = [];
    let at = 0;
    for (let i = 0; i < stream.length; i += step) {
      for (const p of splitter.split(stream.subarray(i, i + step))) {
        pieces.push([at, at + p.length]);
        at += p.length;
      }
    }
    splitter.end();
    assert.is(at, stream.length);
    for (const [s, e] of pieces) {
      const frame = frames.find(([fs, fe]) => s >= fs && s < fe);
      assert.ok(frame && e <= frame[1], `piece ${s}-${e} crosses a frame end`);
    }
    const ends = new Set(pieces.map(([, e]) => e));
    for (const [, fe] of frames) assert.ok(ends.has(fe), `no cut at the frame end ${fe}`);
  });
}

test('ZstdFrameSplitter refuses junk between frames and a stream cut inside a frame', () => {
  const f = zlib.zstdCompressSync(Buffer.from('hello'));
  assert.throws(() => new ZstdFrameSplitter().split(Buffer.concat([f, Buffer.from('junk')])), /corrupt zstd stream: unknown frame magic/);
  const cut = new ZstdFrameSplitter();
  cut.split(f.subarray(0, f.length - 1));
  assert.throws(() => cut.end(), /corrupt zstd stream: unexpected end of file/);
});

test.run();
