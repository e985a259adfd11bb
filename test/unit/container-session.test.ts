// The pure parts of exec, attach, top and cp: argument readings, podman's placement rules for
// cp, the detach-key filter, the ps descriptors and Go durations, the op stream to tar.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DetachKeys, parseDetachKeys } from '../../core/container/attach';
import { containerPath, meansContents, parseCopyArg, placeInContainer, placeOnHost, type PathInfo } from '../../core/container/copy';
import { OpsToTar } from '../../core/container/copy-stream';
import { encodeExecConfig, execEnv, type ExecOptions } from '../../core/container/exec';
import type { Container } from '../../core/container/record';
import { goDuration, parseTopArgs, DEFAULT_DESCRIPTORS } from '../../core/container/top';
import { encodeOp, OPS_MAGIC } from '../../core/layer/ops';
import { listTar } from '../lib/tar';

test('cp arguments: CONTAINER:PATH unless the path starts with . or /', () => {
  const table: Array<[string, ReturnType<typeof parseCopyArg>]> = [
    ['web:/etc/hosts', { container: 'web', path: '/etc/hosts' }],
    ['web:rel', { container: 'web', path: 'rel' }],
    ['web:', { container: 'web', path: '' }],
    ['./a:b', { path: './a:b' }],
    ['/x:y', { path: '/x:y' }],
    ['file', { path: 'file' }],
    ['-', { path: '-' }],
  ];
  for (const [arg, want] of table) assert.equal(parseCopyArg(arg), want, arg);
  assert.ok(meansContents('dir/.'));
  assert.ok(meansContents('.'));
  assert.not.ok(meansContents('dir/..'));
  assert.not.ok(meansContents('dir/.hidden'));
  assert.is(containerPath('rel/x', '/srv'), '/srv/rel/x');
  assert.is(containerPath('../../..', '/srv'), '/');
  assert.is(containerPath('/a/./b/', ''), '/a/b');
});

const dir = (p: string): PathInfo => ({ type: 'dir', parent: true, path: p });
const file = (p: string): PathInfo => ({ type: 'file', parent: true, path: p });
const missing = (p: string, parent = true): PathInfo => ({ type: 'missing', parent, path: parent ? p : '' });

test('cp placement in a container: podman\'s rules', () => {
  const f = { isDir: false, name: 'a.txt', contents: false };
  const d = { isDir: true, name: 'tree', contents: false };
  const dc = { isDir: true, name: 'tree', contents: true };
  assert.equal(placeInContainer(f, '/tmp', dir('/tmp'), 'c'), { dir: '/tmp', name: 'a.txt' });
  assert.equal(placeInContainer(f, '/tmp/x', file('/tmp/x'), 'c'), { dir: '/tmp', name: 'x' });
  assert.equal(placeInContainer(f, '/link', file('/real/target'), 'c'), { dir: '/real', name: 'target' }, 'through a symlink');
  assert.equal(placeInContainer(f, '/tmp/new', missing('/tmp/new'), 'c'), { dir: '/tmp', name: 'new' });
  assert.equal(placeInContainer(d, '/tmp', dir('/tmp'), 'c'), { dir: '/tmp', name: 'tree' });
  assert.equal(placeInContainer(dc, '/tmp', dir('/tmp'), 'c'), { dir: '/tmp', name: '' });
  assert.equal(placeInContainer(dc, '/tmp/new', missing('/tmp/new'), 'c'), { dir: '/tmp', name: 'new' });
  assert.equal(placeInContainer(d, '/', dir('/'), 'c'), { dir: '/', name: 'tree' });
  assert.throws(() => placeInContainer(d, '/tmp/x', file('/tmp/x'), 'c'), /destination must be a directory when copying a directory/);
  assert.throws(() => placeInContainer(f, '/tmp/new/', missing('/tmp/new'), 'c'), /"\/tmp\/new\/" could not be found on container c/);
  assert.throws(() => placeInContainer(f, '/no/such', missing('', false), 'c'), /"\/no\/such" could not be found on container c/);
});

test('cp placement on the host: the same rules, symlinks of the user\'s followed', () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-cp-'));
  try {
    fs.mkdirSync(path.join(base, 'd'));
    fs.writeFileSync(path.join(base, 'f'), '');
    fs.symlinkSync('d', path.join(base, 'to-d'));
    const f = { isDir: false, name: 'x', contents: false };
    const d = { isDir: true, name: 'tree', contents: false };
    assert.equal(placeOnHost(f, 'd', base), { dir: path.join(base, 'd'), name: 'x' });
    assert.equal(placeOnHost(f, 'to-d', base), { dir: path.join(base, 'd'), name: 'x' });
    assert.equal(placeOnHost(f, 'f', base), { dir: base, name: 'f' });
    assert.equal(placeOnHost(d, 'new', base), { dir: base, name: 'new' });
    assert.equal(placeOnHost({ ...d, contents: true }, 'd', base), { dir: path.join(base, 'd'), name: '' });
    assert.throws(() => placeOnHost(d, 'f', base), /destination must be a directory when copying a directory/);
    assert.throws(() => placeOnHost(f, 'new/', base), /"new\/" could not be found on the host/);
    assert.throws(() => placeOnHost(f, 'no/such', base), /"no\/such" could not be found on the host/);
    assert.throws(() => placeOnHost(f, '/dev/null', base), /must be a directory or a regular file/);
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test('detach keys: podman\'s notation, held back while they may be the sequence', () => {
  assert.equal(parseDetachKeys('ctrl-p,ctrl-q'), [16, 17]);
  assert.equal(parseDetachKeys('ctrl-@,ctrl-[,ctrl-_,a'), [0, 27, 31, 97]);
  assert.equal(parseDetachKeys(''), []);
  for (const bad of ['ctrl-', 'ctrl-1', 'ab', 'ctrl-p,']) assert.throws(() => parseDetachKeys(bad), /invalid detach keys/, bad);

  const k = new DetachKeys([16, 17]);
  assert.equal(k.feed(Buffer.from('ab')), { send: Buffer.from('ab'), detach: false });
  assert.equal(k.feed(Buffer.from([0x61, 16])), { send: Buffer.from('a'), detach: false }, 'ctrl-p held');
  assert.equal(k.feed(Buffer.from('x')), { send: Buffer.from([16, 0x78]), detach: false }, 'released when not followed by ctrl-q');
  assert.equal(k.feed(Buffer.from([16, 16])), { send: Buffer.from([16]), detach: false }, 'the second may start it anew');
  assert.equal(k.feed(Buffer.from([17, 0x7a])), { send: Buffer.alloc(0), detach: true });
  assert.equal(new DetachKeys([]).feed(Buffer.from([16, 17])), { send: Buffer.from([16, 17]), detach: false });
});

test('top: descriptors from words, comma lists and ps style; Go durations', () => {
  assert.equal(parseTopArgs([]), DEFAULT_DESCRIPTORS);
  assert.equal(parseTopArgs(['pid', 'comm']), ['pid', 'comm']);
  assert.equal(parseTopArgs(['user,pid,args']), ['user', 'pid', 'args']);
  assert.equal(parseTopArgs(['-eo', 'user,pid']), ['user', 'pid']);
  assert.equal(parseTopArgs(['-opid,comm']), ['pid', 'comm']);
  assert.equal(parseTopArgs(['-ef']), DEFAULT_DESCRIPTORS);
  assert.throws(() => parseTopArgs(['-x']), /unsupported ps option "-x"/);
  assert.throws(() => parseTopArgs(['-o']), /needs a list/);
  const durations: Array<[number, string]> = [
    [0, '0s'], [950, '950ms'], [1000, '1s'], [8936, '8.936s'], [8900, '8.9s'], [65_000, '1m5s'], [120_000, '2m0s'], [3_603_000, '1h0m3s'],
  ];
  for (const [ms, s] of durations) assert.is(goDuration(ms), s, String(ms));
});

const ctr = {
  config: { env: ['PATH=/bin', 'A=ctr', 'TERM=vt100'], user: 'app', userns: '', workdir: '/srv', caps: ['CHOWN', 'KILL'] },
  state: { status: 'running', pid: 42, monitorPid: 41 },
  dir: '/nowhere',
} as unknown as Container;

function execOpts(o: Partial<ExecOptions>): ExecOptions {
  return { cmd: ['sh'], env: [], envFiles: [], tty: false, interactive: false, detach: false, privileged: false, hostEnv: { HOSTVAR: 'h' }, cwd: '/', ...o };
}

function pairs(buf: Buffer): Array<[string, string]> {
  const parts = buf.toString('utf8').split('\0');
  parts.pop();
  const out: Array<[string, string]> = [];
  for (let i = 0; i < parts.length; i += 2) out.push([parts[i], parts[i + 1]]);
  return out;
}

test('exec: environment and the helper\'s configuration', () => {
  assert.equal(execEnv(ctr, execOpts({ env: ['A=flag', 'HOSTVAR'] }), ['B=file']), ['PATH=/bin', 'A=flag', 'TERM=vt100', 'B=file', 'HOSTVAR=h']);
  const noTerm = { ...ctr, config: { ...ctr.config, env: ['PATH=/bin'] } } as Container;
  assert.equal(execEnv(noTerm, execOpts({ tty: true }), []), ['PATH=/bin', 'TERM=xterm']);
  const cfg = pairs(encodeExecConfig(ctr, { pid: 42, monitorPid: 41 }, execOpts({ cmd: ['ls', '-l'], interactive: true }), ['PATH=/bin']));
  assert.equal(cfg, [
    ['pid', '42'], ['ppid', '41'], ['user', 'app'], ['cwd', '/srv'], ['env', 'PATH=/bin'], ['arg', 'ls'], ['arg', '-l'],
    ['cap', 'CHOWN'], ['cap', 'KILL'], ['nonewprivs', '1'], ['stdin', '1'],
  ]);
  const priv = pairs(encodeExecConfig(ctr, { pid: 42 }, execOpts({ privileged: true, user: '0', workdir: '/tmp', detach: true, interactive: true }), []));
  assert.equal(priv, [['pid', '42'], ['user', '0'], ['cwd', '/tmp'], ['arg', 'sh'], ['cap', 'ALL'], ['detach', '1']]);
  assert.throws(() => encodeExecConfig(ctr, { pid: 42 }, execOpts({ cmd: ['a\0b'] }), []), /NUL byte/);
});

test('the op stream of a copy becomes a tar archive: long names, links, modes', async () => {
  const long = 'd/' + 'n'.repeat(150);
  const content = Buffer.from('hello\n');
  const stream = Buffer.concat([
    OPS_MAGIC,
    encodeOp({ kind: 'd', path: 'd', mode: 0o750, uid: 0, gid: 0, mtimeSec: 1000 }),
    encodeOp({ kind: 'f', path: 'd/f', mode: 0o640, uid: 5, gid: 6, mtimeSec: 1000, size: content.length }),
    content,
    encodeOp({ kind: 'f', path: long, mode: 0o600, size: 0 }),
    encodeOp({ kind: 'l', path: 'd/l', mode: 0o777, link: '/etc' }),
    encodeOp({ kind: 'h', path: 'd/h', link: 'd/f' }),
    encodeOp({ kind: 'E', path: '' }),
  ]);
  const out: Buffer[] = [];
  const sink = new PassThrough();
  sink.on('data', (d: Buffer) => out.push(d));
  const conv = new OpsToTar();
  conv.pipe(sink);
  // fed a byte at a time where it hurts most: headers and names split anywhere
  for (let i = 0; i < stream.length; i += 7) conv.write(stream.subarray(i, i + 7));
  conv.end();
  await new Promise((r) => sink.on('end', r));
  const tar = Buffer.concat(out);
  assert.is(tar.length % 512, 0);
  const members = listTar(tar);
  assert.equal(members.map((m) => [m.name, m.typeflag, m.mode, m.linkname]), [
    ['d/', '5', 0o750, ''],
    ['d/f', '0', 0o640, ''],
    [long, '0', 0o600, ''],
    ['d/l', '2', 0o777, '/etc'],
    ['d/h', '1', 0, 'd/f'],
  ]);
  assert.is(members[1].data.toString(), 'hello\n');
  assert.equal([members[1].uid, members[1].gid], [5, 6]);

  const broken = new OpsToTar();
  broken.on('data', () => undefined);
  const failed = new Promise<Error>((r) => broken.on('error', r));
  broken.end(Buffer.concat([OPS_MAGIC, encodeOp({ kind: 'd', path: 'x' })]));
  assert.match((await failed).message, /ended early/);
});

test.run();
