// Hostile layers: each one is refused with a message naming the layer and the entry, and the
// sink aborted before any 'E' record; or, where a name is harmless once cleaned, the exact op
// that the helper receives (the helper contains what symlinks the layer plants).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { unpackLayer } from '../../core/layer/unpack';
import { fixChecksum, gnuLong, memorySink, paxHeader, paxRecord, tarEnd, tarEntry } from '../lib/ops-decode';

const LAYER = 'sha256:' + 'bad0'.repeat(16);

const BIG_COMMENT = 'x'.repeat(1024 * 1024);
const file = (name: string, content = 'x'): Buffer => tarEntry({ name, content });
const archive = (...entries: Buffer[]): Buffer => Buffer.concat([...entries, tarEnd()]);

const refused: Array<[string, Buffer, string]> = [
  ['../ traversal', archive(file('../x')), 'entry "../x" leads outside the layer'],
  ['traversal after a directory', archive(file('a/../../x')), 'entry "a/../../x" leads outside the layer'],
  ['deep traversal', archive(file('./a/b/../../../../etc/passwd')), 'entry "./a/b/../../../../etc/passwd" leads outside the layer'],
  ['absolute traversal', archive(file('/../etc/passwd')), 'entry "/../etc/passwd" leads outside the layer'],
  ['a bare ..', archive(tarEntry({ name: '..', type: 'Directory' })), 'entry ".." leads outside the layer'],
  ['./ as a file', archive(tarEntry({ name: './', type: 'File' })), 'entry "./" would replace the layer root with a non-directory'],
  ['. as a file', archive(file('.')), 'entry "." would replace the layer root with a non-directory'],
  ['/ as a symlink', archive(tarEntry({ name: '/', type: 'SymbolicLink', linkname: '/etc' })), 'entry "/" would replace the layer root with a non-directory'],
  ['./ as a hard link', archive(file('a'), tarEntry({ name: './', type: 'Link', linkname: 'a' })), 'entry "./" would replace the layer root with a non-directory'],
  ['a whiteout of nothing', archive(file('.wh.')), 'entry ".wh." is a whiteout of nothing'],
  ['a whiteout of ..', archive(file('etc/.wh...')), 'entry "etc/.wh..." is a whiteout of nothing'],
  ['a whiteout of .', archive(file('.wh..')), 'entry ".wh.." is a whiteout of nothing'],
  ['a whiteout used as a directory', archive(file('.wh.etc/passwd')), 'entry ".wh.etc/passwd" uses a whiteout name as a directory'],
  ['a hard link climbing out', archive(tarEntry({ name: 'pw', type: 'Link', linkname: '../../etc/passwd' })), 'hard link "pw" to "../../etc/passwd" leads outside the layer'],
  ['a hard link climbing out from /', archive(tarEntry({ name: 'pw', type: 'Link', linkname: '/../etc/passwd' })), 'hard link "pw" to "/../etc/passwd" leads outside the layer'],
  ['a hard link to the root', archive(tarEntry({ name: 'root', type: 'Link', linkname: './' })), 'hard link "root" points at the layer root'],
  ['a NUL in a pax path', archive(paxHeader([['path', 'etc/passwd\0.txt']]), file('x')), 'entry "etc/passwd\\u0000.txt" has a NUL byte in its name'],
  ['a NUL in a pax linkpath', archive(paxHeader([['linkpath', '/etc\0/x']]), tarEntry({ name: 'l', type: 'SymbolicLink', linkname: 'x' })), 'entry "l" has a NUL byte in its link target'],
  ['a symlink without a target', archive(paxHeader([['linkpath', '']]), tarEntry({ name: 'l', type: 'SymbolicLink', linkname: '' })), 'symbolic link "l" has an empty target'],
  ['a GNU sparse file', archive(tarEntry({ name: 'sparse', type: 'SparseFile', content: 'x' })), 'entry "sparse" is a sparse file, which is not supported: rebuild the image without sparse files'],
  ['a pax sparse file', archive(paxHeader([['GNU.sparse.major', '1'], ['GNU.sparse.minor', '0']]), file('sparse')), 'entry "sparse" is a sparse file, which is not supported: rebuild the image without sparse files'],
  ['a pax uid beyond 32 bits', archive(paxHeader([['uid', '4294967296']]), file('u')), 'entry "u" has an owner or device number out of range'],
  ['trailing garbage', Buffer.concat([archive(file('a')), Buffer.from('#!/bin/sh\necho second archive\n')]), 'unexpected data after the end of the tar archive'],
  ['a second archive after one end block', Buffer.concat([file('a'), Buffer.alloc(512), archive(file('b'))]), 'unexpected data after the end of the tar archive'],
  ['an oversized pax header', archive(paxHeader([['comment', BIG_COMMENT]]), file('a')), `oversized extended header (${paxRecord('comment', BIG_COMMENT).length} bytes)`],
  ['a malformed pax record', archive(file('before'), paxHeader(Buffer.from('30 path=short\n')), file('a')), 'corrupt pax header after entry "before": malformed pax record'],
  ['a header with a bad checksum', (() => {
    const t = archive(file('ok'), file('victim'));
    t[1024 + 10] ^= 0x01;
    return t;
  })(), 'corrupt tar header after entry "ok": checksum mismatch'],
  ['a header with a malformed size', (() => {
    const t = archive(file('ok'), file('victim'));
    t.write('9', 1024 + 124, 'latin1');
    fixChecksum(t.subarray(1024, 1536));
    return t;
  })(), 'corrupt tar header after entry "ok": malformed number'],
];

for (const [what, tar, message] of refused) {
  for (const how of ['none', 'gzip'] as const) {
    test(`refuses ${what} (${how})`, async () => {
      const sink = memorySink();
      const data = how === 'gzip' ? zlib.gzipSync(tar) : tar;
      let err: Error | undefined;
      try {
        await unpackLayer(Readable.from([data]), { sink, layerName: LAYER, warn: () => undefined });
      } catch (e) {
        err = e as Error;
      }
      assert.is(err?.message, `layer ${LAYER}: ${message}`);
      assert.is(err?.name, 'TspodError');
      assert.ok(sink.aborted, 'the sink is aborted');
      assert.not.ok(sink.ops().some((o) => o.kind === 'E'), 'no E record');
    });
  }
}

// Names that mean something harmless once cleaned, and links whose targets are data: the helper
// receives these ops and contains them (a symlink to / is written as a symlink; a later entry
// "through" it is resolved beneath the destination by the helper).
const contained: Array<[string, Buffer, Array<Record<string, unknown>>]> = [
  ['an absolute name', archive(file('/etc/passwd', 'root::0:0::/:/bin/sh')), [{ kind: 'f', path: 'etc/passwd' }]],
  ['leading ./ and doubled slashes', archive(file('.//usr///bin/./env')), [{ kind: 'f', path: 'usr/bin/env' }]],
  ['.. that stays inside', archive(file('a/b/../../c')), [{ kind: 'f', path: 'c' }]],
  ['names with dots that are not . or ..', archive(file('...'), file('..x'), file('x..')), [{ kind: 'f', path: '...' }, { kind: 'f', path: '..x' }, { kind: 'f', path: 'x..' }]],
  ['an absolute hard link target', archive(file('etc/passwd'), tarEntry({ name: 'pw', type: 'Link', linkname: '/etc/passwd' })), [
    { kind: 'f', path: 'etc/passwd' },
    { kind: 'h', path: 'pw', link: 'etc/passwd' },
  ]],
  ['a symlink to / and a write through it', archive(tarEntry({ name: 'evil', type: 'SymbolicLink', linkname: '/' }), file('evil/etc/passwd')), [
    { kind: 'l', path: 'evil', link: '/' },
    { kind: 'f', path: 'evil/etc/passwd' },
  ]],
  ['a symlink to .. and a write through it', archive(tarEntry({ name: 'up', type: 'SymbolicLink', linkname: '../../../..' }), file('up/x')), [
    { kind: 'l', path: 'up', link: '../../../..' },
    { kind: 'f', path: 'up/x' },
  ]],
  ['a pax path that climbs out is judged by the pax path', archive(paxHeader([['path', 'inside/file']]), file('../outside')), [{ kind: 'f', path: 'inside/file' }]],
  ['a GNU long name over a pax path (as Go reads it)', archive(paxHeader([['path', 'from-pax']]), gnuLong('L', 'from-gnu'), file('short')), [{ kind: 'f', path: 'from-gnu' }]],
  ['a root directory entry', archive(tarEntry({ name: '/', type: 'Directory', mode: 0o700 })), [{ kind: 'd', path: '', mode: 0o700 }]],
  ['an opaque root', archive(file('.wh..wh..opq', '')), [{ kind: 'o', path: '' }]],
];

for (const [what, tar, want] of contained) {
  test(`passes ${what} as a contained op`, async () => {
    const sink = memorySink();
    await unpackLayer(Readable.from([tar]), { sink, layerName: LAYER });
    const ops = sink.ops();
    assert.is(ops.pop()?.kind, 'E');
    // Only the fields the table names are compared.
    const picked = ops.map((o, i) => Object.fromEntries(Object.keys(want[i] ?? {}).map((k) => [k, (o as unknown as Record<string, unknown>)[k]])));
    assert.is(ops.length, want.length);
    assert.equal(picked, want);
  });
}

test('the pax record builder used above writes lengths that count themselves', () => {
  for (const v of ['', 'x', 'x'.repeat(5), 'x'.repeat(94), 'x'.repeat(95), 'x'.repeat(994)]) {
    const r = paxRecord('k', v);
    assert.is(Number(r.toString('latin1').split(' ')[0]), r.length);
  }
});

test.run();
