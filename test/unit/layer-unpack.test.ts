// unpackLayer end to end against an in-memory sink: what the helper would be told to write for
// archives made by node-tar and by hand, in plain, gzip and zstd, and how the stream behaves
// (diff_id, corruption, backpressure, a failing sink).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import * as tar from 'tar';
import { unpackLayer, type UnpackResult } from '../../core/layer/unpack';
import { gnuLong, memorySink, paxHeader, tarEnd, tarEntry, type DecodedOp, type MemorySink, type MemorySinkOptions } from '../lib/ops-decode';

const LAYER = 'sha256:' + '5e'.repeat(32);
const sha = (b: Buffer): string => 'sha256:' + createHash('sha256').update(b).digest('hex');

type Compress = 'none' | 'gzip' | 'zstd';
function compress(t: Buffer, how: Compress): Buffer {
  return how === 'gzip' ? zlib.gzipSync(t) : how === 'zstd' ? zlib.zstdCompressSync(t) : t;
}

/** A blob stream delivering `data` in pieces of exactly `step` bytes. */
function blob(data: Buffer, step = 64 * 1024): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += step) parts.push(data.subarray(i, i + step));
  return Readable.from(parts);
}

interface Run {
  result: UnpackResult;
  sink: MemorySink;
  ops: DecodedOp[];
  warnings: Array<[string, string]>;
}

async function unpack(
  data: Buffer,
  opts: { step?: number; expectedDiffId?: string; sink?: MemorySinkOptions; progress?: number[] } = {},
): Promise<Run> {
  const sink = memorySink(opts.sink);
  const warnings: Array<[string, string]> = [];
  const result = await unpackLayer(blob(data, opts.step), {
    sink,
    layerName: LAYER,
    expectedDiffId: opts.expectedDiffId,
    onProgress: opts.progress ? (n) => opts.progress?.push(n) : undefined,
    warn: (key, message) => warnings.push([key, message]),
  });
  return { result, sink, ops: sink.ops(), warnings };
}

/** An op as plain data for deep comparison: default-valued fields and raw bytes left out. */
function brief(op: DecodedOp): Record<string, unknown> {
  const o: Record<string, unknown> = { kind: op.kind, path: op.path };
  if (op.mode) o.mode = op.mode;
  if (op.uid) o.uid = op.uid;
  if (op.gid) o.gid = op.gid;
  if (op.mtimeSec) o.mtime = op.mtimeNsec ? `${op.mtimeSec}.${String(op.mtimeNsec).padStart(9, '0')}` : op.mtimeSec;
  if (op.devmajor || op.devminor) o.dev = `${op.devmajor}:${op.devminor}`;
  if (op.link !== undefined) o.link = op.link;
  if (op.xattrs) o.xattrs = Object.fromEntries(op.xattrs.map(([k, v]) => [k, v.toString('hex')]));
  if (op.content) o.content = op.content.length <= 64 ? op.content.toString('latin1') : sha(op.content);
  return o;
}

/** Expects `fn` to reject with an error whose message `check` accepts. */
async function rejects(fn: () => Promise<unknown>, check: (e: Error) => boolean): Promise<void> {
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof Error, 'expected a rejection');
  assert.ok(check(err as Error), `unexpected error: ${(err as Error).message}`);
}

// ---------------------------------------------------------------------------------------------
// A directory tree archived by node-tar

const BIG = randomBytes(3 * 1024 * 1024 + 77);

function nodeTarArchive(): Buffer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-layer-'));
  try {
    const t = 1_600_000_000;
    fs.mkdirSync(path.join(dir, 'etc'));
    fs.writeFileSync(path.join(dir, 'etc', 'motd'), 'hello\n');
    fs.chmodSync(path.join(dir, 'etc', 'motd'), 0o640);
    fs.chownSync(path.join(dir, 'etc', 'motd'), 1000, 1001);
    fs.linkSync(path.join(dir, 'etc', 'motd'), path.join(dir, 'etc', 'motd.hard'));
    fs.symlinkSync('motd', path.join(dir, 'etc', 'motd.link'));
    fs.writeFileSync(path.join(dir, 'su'), '#!/bin/sh\n');
    fs.chmodSync(path.join(dir, 'su'), 0o4755);
    fs.mkdirSync(path.join(dir, 'empty'));
    fs.chmodSync(path.join(dir, 'empty'), 0o1777);
    fs.writeFileSync(path.join(dir, 'big.bin'), BIG);
    fs.writeFileSync(path.join(dir, 'caf\u00e9.txt'), '\u00e9');
    fs.chmodSync(dir, 0o755);
    for (const p of ['etc/motd', 'su', 'big.bin', 'caf\u00e9.txt', 'empty', 'etc', '.']) fs.utimesSync(path.join(dir, p), t, t);
    fs.lutimesSync(path.join(dir, 'etc', 'motd.link'), t, t);
    // sync: node-tar 7.5's asynchronous pack throws "write after end" on some trees with hard links.
    const parts: Buffer[] = [];
    tar.create({ cwd: dir, sync: true }, ['.']).on('data', (c: Buffer) => parts.push(c));
    return Buffer.concat(parts);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

for (const how of ['none', 'gzip', 'zstd'] as Compress[]) {
  test(`a node-tar archive (${how}) becomes the ops the helper needs, with its diff_id`, async () => {
    const t = nodeTarArchive();
    const { result, ops } = await unpack(compress(t, how), { expectedDiffId: sha(t) });
    assert.is(result.diffId, sha(t));
    assert.is(result.size, t.length);
    assert.is(ops[ops.length - 1].kind, 'E');
    const byPath = new Map(ops.slice(0, -1).map((o) => [o.path, brief(o)]));
    const T = 1_600_000_000;
    const motd = byPath.get('etc/motd')?.kind === 'f' ? 'etc/motd' : 'etc/motd.hard';
    const hard = motd === 'etc/motd' ? 'etc/motd.hard' : 'etc/motd';
    assert.equal(Object.fromEntries(byPath), {
      '': { kind: 'd', path: '', mode: 0o755, mtime: T },
      etc: { kind: 'd', path: 'etc', mode: 0o755, mtime: T },
      [motd]: { kind: 'f', path: motd, mode: 0o640, uid: 1000, gid: 1001, mtime: T, content: 'hello\n' },
      [hard]: { kind: 'h', path: hard, link: motd },
      'etc/motd.link': { kind: 'l', path: 'etc/motd.link', mode: 0o777, mtime: T, link: 'motd' },
      su: { kind: 'f', path: 'su', mode: 0o4755, mtime: T, content: '#!/bin/sh\n' },
      empty: { kind: 'd', path: 'empty', mode: 0o1777, mtime: T },
      'big.bin': { kind: 'f', path: 'big.bin', mode: 0o644, mtime: T, content: sha(BIG) },
      'caf\u00e9.txt': { kind: 'f', path: 'caf\u00e9.txt', mode: 0o644, mtime: T, content: Buffer.from('\u00e9').toString('latin1') },
    });
  });
}

// ---------------------------------------------------------------------------------------------
// A hand-built archive with everything node-tar does not write

const CAP = Buffer.from('0100000200200000ff80000000000000000000000a', 'hex');

function handBuilt(): Buffer {
  return Buffer.concat([
    tarEntry({ name: './', type: 'Directory', mode: 0o755, mtime: 1 }),
    paxHeader([
      ['mtime', '1700000000.123456789'],
      ['uid', '100000'],
      ['SCHILY.xattr.security.capability', CAP],
      ['SCHILY.xattr.user.comment', 'hi'],
      ['LIBARCHIVE.xattr.user.b%3D64', Buffer.from([0xc0, 0xff, 0xee]).toString('base64')],
      ['SCHILY.xattr.user.overlay.opaque', 'y'],
    ]),
    tarEntry({ name: 'usr/bin/ping', mode: 0o755, content: 'ELF' }),
    tarEntry({ name: 'dev/null', type: 'CharacterDevice', mode: 0o666, devmajor: 1, devminor: 3 }),
    tarEntry({ name: 'dev/sda', type: 'BlockDevice', mode: 0o660, gid: 6, devmajor: 8, devminor: 0 }),
    tarEntry({ name: 'run/initctl', type: 'FIFO', mode: 0o600 }),
    gnuLong('L', 'deep/' + 'n'.repeat(200)),
    tarEntry({ name: 'truncated-name', content: 'long' }),
    gnuLong('K', '/' + 't'.repeat(150)),
    tarEntry({ name: 'long-link', type: 'SymbolicLink', mode: 0o777, linkname: 'truncated' }),
    paxHeader([['path', 'ignored/by/everyone'], ['mtime', '5']], true),
    tarEntry({ name: 'after-global', content: 'g' }),
    tarEntry({ name: 'etc/.wh.motd', content: 'data that must be skipped' }),
    tarEntry({ name: 'var/.wh..wh..opq' }),
    tarEntry({ name: '.wh..wh.plnk/12.34', content: 'aufs' }),
    tarEntry({ name: 'x', rawName: Buffer.from([0x66, 0xff, 0x2e, 0x74]), content: 'latin' }),
    tarEntry({ name: 'acl', type: 'A', content: 'solaris acl' }),
    tarEntry({ name: 'acl2', type: 'A', content: 'another' }),
    tarEntry({ name: 'etc/shadow-link', type: 'Link', linkname: '/usr/bin/ping', mode: 0o4755, uid: 5 }),
    tarEntry({ name: 'sized-dir/', type: 'Directory', size: 3 }), // header-only: no data follows
    tarEntry({ name: 'old-dir/', type: 'OldFile', mode: 0o750 }),
    tarEntry({ name: 'old-file', type: 'OldFile', content: 'v7' }),
    tarEnd(),
  ]);
}

test('everything node-tar does not write: pax times and xattrs, devices, GNU long names, whiteouts', async () => {
  const t = handBuilt();
  const { ops, warnings } = await unpack(t);
  assert.equal(ops.map(brief), [
    { kind: 'd', path: '', mode: 0o755, mtime: 1 },
    {
      kind: 'f',
      path: 'usr/bin/ping',
      mode: 0o755,
      uid: 100000,
      mtime: '1700000000.123456789',
      xattrs: { 'security.capability': CAP.toString('hex'), 'user.comment': '6869', 'user.b=64': 'c0ffee' },
      content: 'ELF',
    },
    { kind: 'c', path: 'dev/null', mode: 0o666, mtime: 1_600_000_000, dev: '1:3' },
    { kind: 'b', path: 'dev/sda', mode: 0o660, gid: 6, mtime: 1_600_000_000, dev: '8:0' },
    { kind: 'p', path: 'run/initctl', mode: 0o600, mtime: 1_600_000_000 },
    { kind: 'f', path: 'deep/' + 'n'.repeat(200), mode: 0o644, mtime: 1_600_000_000, content: 'long' },
    { kind: 'l', path: 'long-link', mode: 0o777, mtime: 1_600_000_000, link: '/' + 't'.repeat(150) },
    { kind: 'f', path: 'after-global', mode: 0o644, mtime: 1_600_000_000, content: 'g' },
    { kind: 'w', path: 'etc/motd' },
    { kind: 'o', path: 'var' },
    { kind: 'f', path: Buffer.from([0x66, 0xff, 0x2e, 0x74]).toString('utf8'), mode: 0o644, mtime: 1_600_000_000, content: 'latin' },
    { kind: 'h', path: 'etc/shadow-link', link: 'usr/bin/ping' },
    { kind: 'd', path: 'sized-dir', mode: 0o644, mtime: 1_600_000_000 },
    { kind: 'd', path: 'old-dir', mode: 0o750, mtime: 1_600_000_000 },
    { kind: 'f', path: 'old-file', mode: 0o644, mtime: 1_600_000_000, content: 'v7' },
    { kind: 'E', path: '' },
  ]);
  const latin = ops.find((o) => o.content?.toString() === 'latin');
  assert.equal([...(latin?.rawPath ?? [])], [0x66, 0xff, 0x2e, 0x74], 'a name that is not UTF-8 arrives byte for byte');
  assert.equal(warnings, [
    ['layer-reserved-xattr', `layer ${LAYER}: ignoring extended attribute "user.overlay.opaque" of entry "usr/bin/ping": it is reserved for the host or the overlay`],
    ['layer-entry-type', `layer ${LAYER}: skipping entry "acl" of unsupported type 'A'`],
  ]);
});

test('xattrs with an empty name or a NUL in it are dropped with one warning', async () => {
  const t = Buffer.concat([
    paxHeader([['SCHILY.xattr.', 'v'], ['SCHILY.xattr.user.a\0b', 'v'], ['SCHILY.xattr.user.ok', 'v']]),
    tarEntry({ name: 'f', content: 'x' }),
    tarEnd(),
  ]);
  const { ops, warnings } = await unpack(t);
  assert.equal(ops[0].xattrs, [['user.ok', Buffer.from('v')]]);
  assert.equal(warnings, [['layer-bad-xattr', `layer ${LAYER}: ignoring an extended attribute of entry "f" with a malformed name ""`]]);
});

test('the op stream does not depend on chunking or compression', async () => {
  const small = handBuilt();
  const large = Buffer.concat([nodeTarArchive(), small].map((b) => b.subarray(0, b.length - 1024)).concat([tarEnd()]));
  for (const [t, steps] of [
    [small, [1, 7, 511, 513]],
    [large, [4099, 100_000]],
  ] as Array<[Buffer, number[]]>) {
    const reference = (await unpack(t)).sink.bytes();
    for (const how of ['none', 'gzip', 'zstd'] as Compress[]) {
      for (const step of steps) {
        const { sink, result } = await unpack(compress(t, how), { step, expectedDiffId: sha(t) });
        assert.ok(sink.bytes().equals(reference), `${how} in steps of ${step}`);
        assert.is(result.size, t.length);
      }
    }
  }
});

test('a blob stream of Uint8Array chunks (a web stream turned into a Readable) is fine', async () => {
  const t = Buffer.concat([tarEntry({ name: 'a', content: 'x' }), tarEnd()]);
  const sink = memorySink();
  const chunks = [new Uint8Array(t.subarray(0, 3)), new Uint8Array(t.subarray(3))];
  const r = await unpackLayer(Readable.from(chunks), { sink });
  assert.is(r.diffId, sha(t));
  assert.equal(sink.ops().map((o) => o.kind), ['f', 'E']);
});

// ---------------------------------------------------------------------------------------------
// Integrity

test('a diff_id mismatch is refused before the E record and aborts the sink', async () => {
  const t = Buffer.concat([tarEntry({ name: 'a', content: 'x' }), tarEnd()]);
  const wrong = 'sha256:' + '0'.repeat(64);
  const sink = memorySink();
  await rejects(
    () => unpackLayer(blob(zlib.gzipSync(t)), { sink, layerName: LAYER, expectedDiffId: wrong }),
    (e: Error) => e.message === `layer ${LAYER}: content digest ${sha(t)} does not match the image's diff_id ${wrong}`,
  );
  assert.ok(sink.aborted);
  assert.not.ok(sink.ops().some((o) => o.kind === 'E'));
});

test('a diff_id of another algorithm is checked with it; an unknown one is refused', async () => {
  const t = Buffer.concat([tarEntry({ name: 'a', content: 'x' }), tarEnd()]);
  const sha512 = 'sha512:' + createHash('sha512').update(t).digest('hex');
  assert.is((await unpack(t, { expectedDiffId: sha512 })).result.diffId, sha512);
  const sink = memorySink();
  await rejects(() => unpackLayer(blob(t), { sink, layerName: LAYER, expectedDiffId: 'md5:abc' }), (e) => /unsupported diff_id "md5:abc"/.test(e.message));
  assert.ok(sink.aborted);
});

test('trailing zero padding (a 10 KiB tar record) is accepted and part of the diff_id', async () => {
  const t = Buffer.concat([tarEntry({ name: 'a', content: 'x' }), Buffer.alloc(10240 - 1024)]);
  const { result, ops } = await unpack(t, { expectedDiffId: sha(t) });
  assert.is(result.size, 10240);
  assert.equal(ops.map((o) => o.kind), ['f', 'E']);
});

test('gzip members back to back and zero padding after them are accepted', async () => {
  const t = Buffer.concat([tarEntry({ name: 'a', content: 'x' }), tarEntry({ name: 'b', content: 'y' }), tarEnd()]);
  const gz = Buffer.concat([zlib.gzipSync(t.subarray(0, 700)), zlib.gzipSync(t.subarray(700)), Buffer.alloc(512)]);
  const { result, ops } = await unpack(gz, { expectedDiffId: sha(t) });
  assert.is(result.size, t.length);
  assert.equal(ops.map((o) => o.path), ['a', 'b', '']);
});

test('an archive without end-of-archive blocks is accepted, as Go readers do', async () => {
  const t = tarEntry({ name: 'a', content: 'x' });
  assert.equal((await unpack(t)).ops.map((o) => o.kind), ['f', 'E']);
});

test('an empty blob is an empty layer', async () => {
  const { result, ops } = await unpack(Buffer.alloc(0));
  assert.is(result.diffId, sha(Buffer.alloc(0)));
  assert.equal(ops.map((o) => o.kind), ['E']);
});

function twoFiles(): Buffer {
  return Buffer.concat([tarEntry({ name: 'a/first', content: Buffer.alloc(2000, 1) }), tarEntry({ name: 'a/second', content: 'x' }), tarEnd()]);
}

const broken: Array<[string, () => Buffer, RegExp]> = [
  ['corrupt gzip', () => {
    const gz = zlib.gzipSync(handBuilt());
    for (let i = 20; i < 60; i++) gz[i] ^= 0x5a;
    return gz;
  }, /^: corrupt gzip stream: .+/],
  ['truncated gzip', () => {
    const gz = zlib.gzipSync(handBuilt());
    return gz.subarray(0, gz.length - 20);
  }, /^: corrupt gzip stream: unexpected end of file$/],
  ['gzip followed by junk', () => Buffer.concat([zlib.gzipSync(handBuilt()), Buffer.from('junk')]), /^: corrupt gzip stream: incorrect header check$/],
  ['corrupt zstd', () => {
    const z = zlib.zstdCompressSync(handBuilt(), { params: { [zlib.constants.ZSTD_c_checksumFlag]: 1 } });
    z[z.length - 1] ^= 0xff; // the frame's content checksum
    return z;
  }, /^: corrupt zstd stream: .+/],
  ['truncated zstd', () => {
    const z = zlib.zstdCompressSync(handBuilt());
    return z.subarray(0, z.length - 9);
  }, /^: corrupt zstd stream: unexpected end of file$/],
  ['random bytes', () => randomBytes(5000), /^: not a tar archive$/],
  ['gzipped random bytes', () => zlib.gzipSync(randomBytes(5000)), /^: not a tar archive$/],
  ['a short non-tar blob', () => Buffer.from('{"json": true}'), /^: not a tar archive$/],
  ['a tar cut inside a file', () => twoFiles().subarray(0, 1000), /^: truncated tar archive after entry "a\/first"$/],
  ['a tar cut inside a header', () => twoFiles().subarray(0, 3000), /^: truncated tar archive after entry "a\/first"$/],
  ['a tar cut inside a pax header', () => handBuilt().subarray(0, 1100), /^: truncated tar archive after entry "\.\/"$/],
];
for (const [what, make, want] of broken) {
  test(`${what} is refused and the sink aborted`, async () => {
    const sink = memorySink();
    await rejects(() => unpackLayer(blob(make(), 4096), { sink, layerName: LAYER, warn: () => undefined }), (e: Error) => e.message.startsWith(`layer ${LAYER}`) && want.test(e.message.slice(`layer ${LAYER}`.length)));
    assert.ok(sink.aborted);
    assert.not.ok(sink.ops().some((o) => o.kind === 'E'));
  });
}

test('multi-frame zstd (zstd:chunked, pzstd) is decoded whole, skippable frames skipped', async () => {
  const t = Buffer.concat([nodeTarArchive(), tarEnd()]);
  const skippable = Buffer.alloc(8 + 64, 0xee);
  skippable.writeUInt32LE(0x184d2a50, 0);
  skippable.writeUInt32LE(64, 4);
  const cuts = [0, 700, 5000, 1_000_000, t.length - 5, t.length];
  const frames: Buffer[] = [];
  for (let i = 1; i < cuts.length; i++) frames.push(zlib.zstdCompressSync(t.subarray(cuts[i - 1], cuts[i])), skippable);
  const blobBytes = Buffer.concat(frames);
  const { result, sink } = await unpack(blobBytes, { step: 999, expectedDiffId: sha(t) });
  assert.is(result.size, t.length);
  assert.ok(sink.bytes().equals((await unpack(t)).sink.bytes()));
});

// ---------------------------------------------------------------------------------------------
// Streaming behaviour

test('backpressure: a slow unpacker never has more than about one input chunk waiting', async () => {
  const content = randomBytes(8 * 1024 * 1024);
  const t = Buffer.concat([tarEntry({ name: 'big', content }), tarEnd()]);
  const { ops, sink } = await unpack(t, { step: 1024 * 1024, sink: { delayMs: 1, highWaterMark: 16 * 1024 } });
  assert.ok(ops[0].content?.equals(content));
  assert.ok(sink.maxBuffered <= 1024 * 1024 + 64 * 1024, `buffered ${sink.maxBuffered}`);
});

test('small entries are coalesced into large writes', async () => {
  const parts: Buffer[] = [];
  for (let i = 0; i < 3000; i++) parts.push(tarEntry({ name: `f/${i}`, content: 'x'.repeat(i % 300) }));
  const t = Buffer.concat([...parts, tarEnd()]);
  const { ops, sink } = await unpack(t, { step: 256 * 1024 });
  assert.is(ops.length, 3001);
  assert.ok(sink.writes.length <= 40, `${sink.writes.length} writes for 3000 entries`);
  assert.ok(Math.max(...sink.writes) <= 256 * 1024);
});

test('a sink that fails mid-stream stops the unpack with its error, without hanging', async () => {
  const t = Buffer.concat([tarEntry({ name: 'big', content: randomBytes(4 * 1024 * 1024) }), tarEnd()]);
  const sink = memorySink({ failAfter: 100_000 });
  const started = Date.now();
  await rejects(
    () => unpackLayer(blob(t), { sink, layerName: LAYER }),
    (e: Error) => e.message === `layer ${LAYER}: entry "victim": refused by the test sink`,
  );
  assert.ok(Date.now() - started < 2000);
  assert.ok(sink.aborted);
});

test('progress reports uncompressed bytes, ending at the size', async () => {
  const t = Buffer.concat([tarEntry({ name: 'a', content: randomBytes(300_000) }), tarEnd()]);
  const progress: number[] = [];
  const { result } = await unpack(zlib.gzipSync(t), { progress, step: 10_000 });
  assert.ok(progress.length > 1);
  assert.ok(progress.every((n, i) => i === 0 || n > progress[i - 1]));
  assert.is(progress[progress.length - 1], result.size);
});

test("the unpacker's report is returned and turned into one warning per kind", async () => {
  const t = Buffer.concat([tarEntry({ name: 'dev/null', type: 'CharacterDevice', devmajor: 1, devminor: 3 }), tarEnd()]);
  const report = { devicesSkipped: 2, xattrsSkipped: 1, chownCollapsed: 3, warnings: ['something odd'] };
  const { result, warnings } = await unpack(t, { sink: { report } });
  assert.equal(result.report, { entries: 1, ...report });
  assert.equal(warnings, [
    ['layer-devices', `layer ${LAYER}: skipped 2 device node(s): they cannot be created in a user namespace`],
    ['layer-xattrs', `layer ${LAYER}: skipped 1 extended attribute(s) that the file system or the user namespace does not permit`],
    ['layer-helper: something odd', `layer ${LAYER}: something odd`],
  ]);
});

test('without a layer name, messages still say which thing failed', async () => {
  const sink = memorySink();
  await rejects(() => unpackLayer(blob(randomBytes(1024)), { sink }), (e: Error) => e.message === 'layer: not a tar archive');
});

test.run();
