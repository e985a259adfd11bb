// tspod-helper driven as the unprivileged test users: lock, userns, unpack (every op kind and
// hostile streams) and rmtree. See userns-helper/PROTOCOL.md for the contract under test.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toHost } from '../../core/idmap';
import { describeDiff, diffSnapshots, isEmptyDiff, NOSUB_USER, runAs, snapshotTree, TEST_USER, userInfo } from '../lib';
import {
  HELPER,
  mappingFor,
  opStream,
  runInUserns,
  spawnAs,
  unpackAs,
  userMkdir,
  userTempDir,
  type StreamEntry,
} from '../lib/helper-util';

const USERS = [TEST_USER, NOSUB_USER];
const text = (s: string): Buffer => Buffer.from(s);
const made: string[] = [];

function tempDir(user: string, label?: string): string {
  const dir = userTempDir(user, label);
  made.push(dir);
  return dir;
}

test.after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** xattrs of a path as root sees them (python3's os.getxattr, never following a symlink). */
function xattrs(p: string): Record<string, string> {
  const out = execFileSync(
    '/usr/bin/python3',
    [
      '-c',
      'import os,sys,json; p=sys.argv[1]; print(json.dumps({k: os.getxattr(p,k,follow_symlinks=False).decode("latin1") for k in os.listxattr(p,follow_symlinks=False)}))',
      p,
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(out) as Record<string, string>;
}

function hostIds(user: string, uid: number, gid: number): { uid: number; gid: number } {
  const m = mappingFor(user);
  const u = userInfo(user);
  if (m.single) return { uid: u.uid, gid: u.gid };
  return { uid: toHost(m.uids, uid)!, gid: toHost(m.gids, gid)! };
}

// ---------------------------------------------------------------------------------------------
// lock

test('lock: a second locker waits until the first closes its stdin', async () => {
  const dir = tempDir(TEST_USER, 'lock');
  const file = path.join(dir, 'store.lock');
  const a = spawnAs(TEST_USER, [HELPER, 'lock', file]);
  assert.ok(await a.waitForOutput('locked\n', 5000), `first locker: ${a.stderr()}`);
  const st = fs.statSync(file);
  assert.is(st.mode & 0o777, 0o600);
  assert.is(st.uid, userInfo(TEST_USER).uid);

  const b = spawnAs(TEST_USER, [HELPER, 'lock', file]);
  assert.not.ok(await b.waitForOutput('locked', 700), 'second locker got the lock while the first held it');
  a.child.stdin.end();
  assert.equal(await a.exited, { code: 0, signal: null });
  assert.ok(await b.waitForOutput('locked\n', 5000), 'second locker did not get the lock after the release');
  b.child.stdin.end();
  assert.equal(await b.exited, { code: 0, signal: null });
});

test('lock: killing the holder with SIGKILL releases the lock', async () => {
  const dir = tempDir(NOSUB_USER, 'lock');
  const file = path.join(dir, 'store.lock');
  const a = spawnAs(NOSUB_USER, [HELPER, 'lock', file]);
  assert.ok(await a.waitForOutput('locked\n', 5000), a.stderr());
  const b = spawnAs(NOSUB_USER, [HELPER, 'lock', file]);
  assert.not.ok(await b.waitForOutput('locked', 700));
  process.kill(a.pid, 'SIGKILL');
  assert.is((await a.exited).signal, 'SIGKILL');
  assert.ok(await b.waitForOutput('locked\n', 5000), 'the lock outlived its killed holder');
  b.child.stdin.end();
  await b.exited;
});

test('lock: an unopenable path fails with 125 and names it', async () => {
  const r = await runAs(TEST_USER, [HELPER, 'lock', '/nonexistent-dir/x.lock']);
  assert.is(r.code, 125);
  assert.match(r.stderr, /^tspod-helper: opening lock file \/nonexistent-dir\/x\.lock: No such file or directory/);
});

// ---------------------------------------------------------------------------------------------
// userns

for (const user of USERS) {
  test(`userns (${user}): the command runs as uid 0 with the expected maps`, async () => {
    const u = userInfo(user);
    const r = await runInUserns(user, ['sh', '-c', 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups']);
    assert.is(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    const m = mappingFor(user);
    const expect = [
      '0',
      '0',
      ...m.uids.map((x) => `${x.container} ${x.host} ${x.size}`),
      ...m.gids.map((x) => `${x.container} ${x.host} ${x.size}`),
      m.single ? 'deny' : 'allow',
    ];
    assert.equal(lines, expect);
    if (user === TEST_USER) assert.equal(lines.slice(2, 4), [`0 ${u.uid} 1`, `1 ${u.subuid[0].start} ${u.subuid[0].count}`]);
    else assert.equal(lines.slice(2, 4), [`0 ${u.uid} 1`, `0 ${u.gid} 1`]);
  });
}

test("userns: the exit status is the command's and stdin reaches it", async () => {
  const r = await runInUserns(TEST_USER, ['sh', '-c', 'read x; echo "got $x"; exit 7'], { input: 'hello\n' });
  assert.is(r.code, 7);
  assert.is(r.stdout, 'got hello\n');
});

test('userns: --mount gives a private mount namespace where mounts work and stay inside', async () => {
  const dir = tempDir(TEST_USER, 'mnt');
  const mnt = userMkdir(TEST_USER, path.join(dir, 'mnt'));
  const inside = await runInUserns(TEST_USER, ['sh', '-c', `mount -t tmpfs none ${mnt} && touch ${mnt}/x && ls ${mnt}`], { mount: true });
  assert.is(inside.code, 0, inside.stderr);
  assert.is(inside.stdout, 'x\n');
  assert.equal(fs.readdirSync(mnt), [], 'the mount leaked out of the namespace');
  const without = await runInUserns(TEST_USER, ['sh', '-c', `mount -t tmpfs none ${mnt}`]);
  assert.is.not(without.code, 0, 'mounting worked without --mount');
});

test('userns: --mount turns a shared host mount private (no propagation either way)', async () => {
  const dir = tempDir(TEST_USER, 'shared');
  execFileSync('mount', ['--bind', dir, dir]);
  try {
    execFileSync('mount', ['--make-shared', dir]);
    const line = (text: string): string => text.split('\n').find((l) => l.split(' ')[4] === dir) ?? '';
    assert.match(line(fs.readFileSync('/proc/self/mountinfo', 'utf8')), / shared:\d+ /, 'the host mount is not shared');
    const r = await runInUserns(TEST_USER, ['cat', '/proc/self/mountinfo'], { mount: true });
    assert.is(r.code, 0, r.stderr);
    const inside = line(r.stdout);
    assert.ok(inside, 'the mount is missing inside');
    // optional fields sit between the mount options and " - ": none left means private
    assert.not.match(inside.split(' - ')[0], /(shared|master):\d+/, inside);
  } finally {
    execFileSync('umount', [dir]);
  }
});

test("userns: a newuidmap refusal is reported with newuidmap's own stderr", async () => {
  const u = userInfo(NOSUB_USER);
  const r = await runAs(NOSUB_USER, [HELPER, 'userns', '--uidmap', `0:${u.uid}:1`, '--uidmap', '1:100000:65536', '--gidmap', `0:${u.gid}:1`, '--', 'true']);
  assert.is(r.code, 125);
  assert.match(r.stderr, /^tspod-helper: newuidmap \d+ 0 1002 1 1 100000 65536 failed \(exit status 1\): newuidmap: .*not allowed/m);
});

test('userns: a missing command exits 127, bad maps 125', async () => {
  const missing = await runInUserns(NOSUB_USER, ['/nonexistent/cmd']);
  assert.is(missing.code, 127);
  assert.match(missing.stderr, /executing \/nonexistent\/cmd: No such file or directory/);
  for (const bad of [['--uidmap', '0:x:1'], ['--uidmap', '0:1:0'], ['--uidmap', '1:1002:1'], ['--gidmap', '0:4294967295:2']]) {
    const r = await runAs(NOSUB_USER, [HELPER, 'userns', ...bad, '--', 'true']);
    assert.is(r.code, 125, `${bad.join(' ')} was accepted`);
    assert.match(r.stderr, /^tspod-helper: --[ug]idmap/);
  }
});

// ---------------------------------------------------------------------------------------------
// unpack: every op kind

const FILE_CONTENT = Buffer.from('#!/bin/sh\necho hi\n');
const BIG = Buffer.alloc(3 * 1024 * 1024 + 12345);
for (let i = 0; i < BIG.length; i++) BIG[i] = (i * 7 + (i >> 13)) & 0xff;

const EVERY_KIND: StreamEntry[] = [
  { kind: 'd', path: '', mode: 0o755, mtimeSec: 1_600_000_000, mtimeNsec: 1 },
  { kind: 'd', path: 'etc', mode: 0o750, uid: 1000, gid: 1000, mtimeSec: 1_500_000_000, mtimeNsec: 123_456_789 },
  {
    kind: 'f',
    path: 'etc/tool',
    mode: 0o4755,
    uid: 1000,
    gid: 1000,
    mtimeSec: 1_400_000_000,
    mtimeNsec: 987_654_321,
    xattrs: [['user.foo', Buffer.from('bar')]],
    content: FILE_CONTENT,
  },
  { kind: 'f', path: 'etc/big', mode: 0o644, mtimeSec: 1_300_000_000, content: BIG },
  { kind: 'f', path: 'etc/empty', mode: 0o600, mtimeSec: 1_300_000_001 },
  { kind: 'h', path: 'bin-tool', link: 'etc/tool' },
  { kind: 'l', path: 'etc/link', link: '/etc/tool', uid: 1000, gid: 1000, mtimeSec: 1_200_000_000, mtimeNsec: 5 },
  { kind: 'c', path: 'dev-null', mode: 0o666, devmajor: 1, devminor: 3 },
  { kind: 'b', path: 'dev-sda', mode: 0o660, devmajor: 8, devminor: 0 },
  { kind: 'p', path: 'fifo', mode: 0o640, mtimeSec: 1_100_000_000 },
  { kind: 'w', path: 'etc/removed' },
  { kind: 'd', path: 'var', mode: 0o755, mtimeSec: 1_000_000_000 },
  { kind: 'o', path: 'var' },
  { kind: 'd', path: 'var/sub', mode: 0o2775, mtimeSec: 1_000_000_500 },
  // no 'd' entries for these parents: they are created (0755) as containers/storage does
  { kind: 'f', path: 'opt/a/b/file', mode: 0o644, mtimeSec: 1_000_000_100, content: Buffer.from('deep') },
];

function nsOf(p: string): bigint {
  return fs.lstatSync(p, { bigint: true }).mtimeNs;
}
const ns = (sec: number, nsec = 0): bigint => BigInt(sec) * 1_000_000_000n + BigInt(nsec);

for (const user of USERS) {
  test(`unpack (${user}): every op kind lands as the protocol says`, async () => {
    const base = tempDir(user, 'unpack');
    const dest = userMkdir(user, path.join(base, 'dest'));
    const r = await unpackAs(user, dest, opStream(EVERY_KIND));
    assert.is(r.code, 0, `${r.stdout}${r.stderr}`);
    const single = mappingFor(user).single;
    assert.equal(r.json, {
      entries: EVERY_KIND.length,
      devicesSkipped: 2,
      xattrsSkipped: 0,
      // etc (1000:1000) and etc/tool and etc/link, only where 1000 is not mapped
      chownCollapsed: single ? 3 : 0,
      warnings: [],
    });
    const own = userInfo(user);
    const owner1000 = hostIds(user, 1000, 1000);

    const tool = fs.lstatSync(path.join(dest, 'etc/tool'));
    assert.ok(tool.isFile());
    assert.is(tool.mode & 0o7777, 0o4755, 'setuid bit lost');
    assert.equal({ uid: tool.uid, gid: tool.gid }, owner1000);
    if (user === TEST_USER) assert.is(tool.uid, userInfo(TEST_USER).subuid[0].start + 999);
    else assert.is(tool.uid, own.uid);
    assert.equal(fs.readFileSync(path.join(dest, 'etc/tool')), FILE_CONTENT);
    assert.is(nsOf(path.join(dest, 'etc/tool')), ns(1_400_000_000, 987_654_321));
    assert.equal(xattrs(path.join(dest, 'etc/tool')), { 'user.foo': 'bar' });

    assert.ok(fs.readFileSync(path.join(dest, 'etc/big')).equals(BIG), 'large file content differs');
    assert.is(fs.statSync(path.join(dest, 'etc/empty')).size, 0);
    assert.is(fs.statSync(path.join(dest, 'etc/empty')).mode & 0o777, 0o600);

    const etc = fs.lstatSync(path.join(dest, 'etc'));
    assert.is(etc.mode & 0o7777, 0o750);
    assert.equal({ uid: etc.uid, gid: etc.gid }, owner1000);
    // the directory's time survives the entries created in it afterwards (deferred, deepest first)
    assert.is(nsOf(path.join(dest, 'etc')), ns(1_500_000_000, 123_456_789));
    assert.is(nsOf(dest), ns(1_600_000_000, 1));
    assert.is(nsOf(path.join(dest, 'var')), ns(1_000_000_000));
    assert.is(fs.statSync(path.join(dest, 'var/sub')).mode & 0o7777, 0o2775);

    const hard = fs.lstatSync(path.join(dest, 'bin-tool'));
    assert.is(hard.ino, tool.ino, 'hardlink does not share the inode');
    assert.is(fs.lstatSync(path.join(dest, 'etc/tool')).nlink, 2);

    const link = fs.lstatSync(path.join(dest, 'etc/link'));
    assert.ok(link.isSymbolicLink());
    assert.is(fs.readlinkSync(path.join(dest, 'etc/link')), '/etc/tool');
    assert.equal({ uid: link.uid, gid: link.gid }, owner1000);
    assert.is(nsOf(path.join(dest, 'etc/link')), ns(1_200_000_000, 5));

    assert.not.ok(fs.existsSync(path.join(dest, 'dev-null')), 'a device node was created in a user namespace');
    assert.not.ok(fs.existsSync(path.join(dest, 'dev-sda')));
    const fifo = fs.lstatSync(path.join(dest, 'fifo'));
    assert.ok(fifo.isFIFO());
    assert.is(fifo.mode & 0o777, 0o640);
    assert.is(nsOf(path.join(dest, 'fifo')), ns(1_100_000_000));

    const wh = fs.lstatSync(path.join(dest, 'etc/removed'));
    assert.ok(wh.isCharacterDevice(), 'whiteout is not a character device');
    assert.is(wh.rdev, 0);

    const opq = xattrs(path.join(dest, 'var'));
    assert.is(opq['user.overlay.opaque'], 'y');
    assert.is(opq['user.fuseoverlayfs.opaque'], 'y');

    assert.is(fs.readFileSync(path.join(dest, 'opt/a/b/file'), 'utf8'), 'deep');
    assert.is(fs.statSync(path.join(dest, 'opt/a')).mode & 0o7777, 0o755);
    assert.equal({ uid: fs.statSync(path.join(dest, 'opt/a')).uid }, { uid: own.uid });
  });
}

test('unpack: with the pre-openat2 resolver the result is the same', async () => {
  const base = tempDir(TEST_USER, 'unpack');
  const dest = userMkdir(TEST_USER, path.join(base, 'dest'));
  const r = await unpackAs(TEST_USER, dest, opStream(EVERY_KIND), { TSPOD_HELPER_NO_OPENAT2: '1' });
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.is(fs.readFileSync(path.join(dest, 'opt/a/b/file'), 'utf8'), 'deep');
  assert.is(fs.lstatSync(path.join(dest, 'bin-tool')).ino, fs.lstatSync(path.join(dest, 'etc/tool')).ino);
});

test('unpack: reserved and unsupported xattrs are skipped, counted and warned once', async () => {
  const base = tempDir(TEST_USER, 'unpack');
  const dest = userMkdir(TEST_USER, path.join(base, 'dest'));
  const x = (name: string): [string, Buffer] => [name, Buffer.from('v')];
  const r = await unpackAs(
    TEST_USER,
    dest,
    opStream([
      { kind: 'f', path: 'a', mode: 0o644, xattrs: [x('user.overlay.redirect'), x('trusted.foo'), x('user.ok')] },
      { kind: 'f', path: 'b', mode: 0o644, xattrs: [x('trusted.foo')] },
      { kind: 'l', path: 'c', link: 'a', xattrs: [x('user.onlink')] },
    ]),
  );
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.is(r.json?.xattrsSkipped, 4);
  assert.equal(r.json?.warnings, [
    'xattr user.overlay.redirect skipped: reserved for the overlay filesystem',
    'xattr trusted.foo skipped: Operation not permitted',
    'xattr user.onlink skipped: Operation not permitted',
  ]);
  assert.equal(xattrs(path.join(dest, 'a')), { 'user.ok': 'v' });
});

test('unpack: the last entry for a path wins (replacement)', async () => {
  const base = tempDir(TEST_USER, 'unpack');
  const dest = userMkdir(TEST_USER, path.join(base, 'dest'));
  const r = await unpackAs(
    TEST_USER,
    dest,
    opStream([
      { kind: 'd', path: 'x', mode: 0o500, mtimeSec: 10 },
      { kind: 'd', path: 'x/y', mode: 0o000 },
      { kind: 'f', path: 'x/y/z', mode: 0o644, content: Buffer.from('1') },
      { kind: 'f', path: 'x', mode: 0o644, content: Buffer.from('file now'), mtimeSec: 20 }, // a tree becomes a file
      { kind: 'l', path: 's', link: 'x' },
      { kind: 'd', path: 's', mode: 0o711 }, // a symlink becomes a directory
      { kind: 'f', path: 'f', mode: 0o644, content: Buffer.from('old') },
      { kind: 'f', path: 'f', mode: 0o600, content: Buffer.from('new') },
      { kind: 'f', path: 'g', mode: 0o644, content: Buffer.from('g') },
      { kind: 'h', path: 'g2', link: 'g' },
      { kind: 'h', path: 'g2', link: 'g' }, // the same link twice must not delete the target
      { kind: 'f', path: 'w', mode: 0o644 },
      { kind: 'w', path: 'w' },
    ]),
  );
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.is(fs.readFileSync(path.join(dest, 'x'), 'utf8'), 'file now');
  assert.is(nsOf(path.join(dest, 'x')), ns(20), 'the replaced directory time was applied to the file');
  assert.ok(fs.lstatSync(path.join(dest, 's')).isDirectory());
  assert.is(fs.lstatSync(path.join(dest, 's')).mode & 0o777, 0o711);
  assert.is(fs.readFileSync(path.join(dest, 'f'), 'utf8'), 'new');
  assert.is(fs.lstatSync(path.join(dest, 'f')).mode & 0o777, 0o600);
  assert.is(fs.lstatSync(path.join(dest, 'g2')).ino, fs.lstatSync(path.join(dest, 'g')).ino);
  assert.ok(fs.lstatSync(path.join(dest, 'w')).isCharacterDevice());
});

test('unpack: broken streams fail with a JSON error and exit 1', async () => {
  const base = tempDir(TEST_USER, 'unpack');
  const dest = userMkdir(TEST_USER, path.join(base, 'dest'));
  const cases: Array<[string, Buffer, RegExp]> = [
    ['bad magic', Buffer.from('NOTANOPS!\nxxxxxxxxxxxx'), /bad magic/],
    ['no end record', opStream([{ kind: 'd', path: 'a', mode: 0o755 }], { end: false }), /ended before its end record/],
    [
      'short content',
      Buffer.concat([opStream([{ kind: 'f', path: 'a', size: 100 }], { end: false }), text('short')]),
      /ends inside this file's content/,
    ],
    ['unknown kind', Buffer.concat([opStream([], { end: false }), Buffer.alloc(56, 0x5a)]), /unknown record kind 0x5a/],
    ['root as a file', opStream([{ kind: 'f', path: '', mode: 0o644 }]), /only 'd' and 'o' may name it/],
  ];
  for (const [name, stream, message] of cases) {
    const r = await unpackAs(TEST_USER, dest, stream);
    assert.is(r.code, 1, `${name}: ${r.stdout}${r.stderr}`);
    assert.type(r.json?.error, 'string', name);
    assert.match(String(r.json?.error), message, name);
  }
});

// ---------------------------------------------------------------------------------------------
// unpack: hostile streams

interface Hostile {
  name: string;
  ops: (base: string) => StreamEntry[];
  /** Must the helper refuse (exit 1)? Otherwise either outcome is fine if nothing leaks. */
  refuse?: boolean;
  /** When it succeeds, what must be true inside DEST. */
  inside?: (dest: string) => void;
}

const HOSTILE: Hostile[] = [
  { name: 'dotdot path', refuse: true, ops: () => [{ kind: 'f', path: '../outside/pwned', mode: 0o644, content: text('x') }] },
  { name: 'dotdot inside a path', refuse: true, ops: () => [{ kind: 'f', path: 'a/../../victim', mode: 0o644, content: text('x') }] },
  { name: 'absolute path', refuse: true, ops: (b) => [{ kind: 'f', path: `${b}/outside/pwned`, mode: 0o644, content: text('x') }] },
  { name: 'NUL in a path', refuse: true, ops: () => [{ kind: 'f', path: 'a\0/../../victim', mode: 0o644, content: text('x') }] },
  {
    name: 'symlink to / then a write through it',
    ops: (b) => [
      { kind: 'l', path: 'root', link: '/' },
      { kind: 'f', path: `root${b}/outside/pwned`, mode: 0o644, content: text('x') },
    ],
    inside: (d) => assert.ok(fs.existsSync(path.join(d, d.slice(0, -'/dest'.length), 'outside/pwned'))),
  },
  {
    name: 'symlink to ../../../.. then a write through it',
    ops: (b) => [
      { kind: 'l', path: 'up', link: '../../../../../../../..' },
      { kind: 'f', path: `up${b}/victim`, mode: 0o644, content: text('x') },
    ],
  },
  {
    name: 'symlink to the sibling directory, then a write into it',
    ops: () => [
      { kind: 'l', path: 'o', link: '../outside' },
      { kind: 'f', path: 'o/file', mode: 0o644, content: text('pwned') },
    ],
  },
  {
    name: 'absolute symlink to the sibling, then a directory, whiteout and opaque through it',
    ops: (b) => [
      { kind: 'l', path: 'o', link: `${b}/outside` },
      { kind: 'd', path: 'o/newdir', mode: 0o777 },
      { kind: 'w', path: 'o/file' },
      { kind: 'o', path: 'o/sub' },
    ],
  },
  {
    name: 'symlink chain escape',
    ops: () => [
      // followed naively, a -> b/outside -> c/outside -> ../outside: the real sibling
      { kind: 'd', path: 'outside', mode: 0o755 },
      { kind: 'l', path: 'c', link: '..' },
      { kind: 'l', path: 'b', link: 'c' },
      { kind: 'l', path: 'a', link: 'b/outside' },
      { kind: 'f', path: 'a/pwned', mode: 0o644, content: text('x') },
    ],
    inside: (d) => assert.is(fs.readFileSync(path.join(d, 'outside/pwned'), 'utf8'), 'x'),
  },
  {
    name: 'file, directory, opaque and metadata over a symlink (last component)',
    ops: () => [
      { kind: 'l', path: 'v', link: '../victim' },
      { kind: 'f', path: 'v', mode: 0o4777, uid: 0, content: text('pwned') },
      { kind: 'l', path: 'od', link: '../outside' },
      { kind: 'd', path: 'od', mode: 0o777, mtimeSec: 1 },
      { kind: 'l', path: 'oo', link: '../outside' },
      { kind: 'o', path: 'oo' },
    ],
    inside: (d) => {
      assert.is(fs.readFileSync(path.join(d, 'v'), 'utf8'), 'pwned');
      assert.ok(fs.lstatSync(path.join(d, 'od')).isDirectory());
      assert.ok(fs.lstatSync(path.join(d, 'oo')).isDirectory());
    },
  },
  {
    name: 'a directory time aimed at the sibling through a later symlink',
    ops: () => [
      { kind: 'd', path: 'dd', mode: 0o755, mtimeSec: 1 },
      { kind: 'l', path: 'dd', link: '../outside' },
    ],
    inside: (d) => assert.ok(fs.lstatSync(path.join(d, 'dd')).isSymbolicLink()),
  },
  {
    name: 'symlink loop in a parent',
    refuse: true,
    ops: () => [
      { kind: 'l', path: 'p', link: 'q/x' },
      { kind: 'l', path: 'q', link: 'p/y' },
      { kind: 'f', path: 'p/z', mode: 0o644, content: text('x') },
    ],
  },
  { name: 'hardlink to ../../etc/passwd', refuse: true, ops: () => [{ kind: 'h', path: 'pw', link: '../../etc/passwd' }] },
  { name: 'hardlink to /etc/passwd', refuse: true, ops: () => [{ kind: 'h', path: 'pw', link: '/etc/passwd' }] },
  {
    name: 'hardlink through a symlink to /etc',
    refuse: true,
    ops: () => [
      { kind: 'l', path: 'e', link: '/etc' },
      { kind: 'h', path: 'pw', link: 'e/passwd' },
    ],
  },
  {
    name: 'hardlink through a symlink to the sibling',
    refuse: true,
    ops: () => [
      { kind: 'l', path: 'o', link: '../outside' },
      { kind: 'h', path: 'stolen', link: 'o/file' },
    ],
  },
  {
    name: 'hardlink to a directory',
    refuse: true,
    ops: () => [
      { kind: 'd', path: 'x', mode: 0o755 },
      { kind: 'h', path: 'y', link: 'x' },
    ],
  },
];

function outsideXattrs(base: string): string {
  return JSON.stringify([xattrs(path.join(base, 'outside')), xattrs(path.join(base, 'outside/sub'))]);
}

for (const resolver of ['openat2', 'fallback'] as const) {
  for (const h of HOSTILE) {
    test(`unpack hostile (${resolver}): ${h.name}`, async () => {
      const user = TEST_USER;
      const base = tempDir(user, 'hostile');
      const dest = userMkdir(user, path.join(base, 'dest'));
      userMkdir(user, path.join(base, 'outside/sub'));
      fs.writeFileSync(path.join(base, 'outside/file'), 'original');
      fs.writeFileSync(path.join(base, 'victim'), 'original');
      for (const f of ['outside/file', 'victim']) fs.chownSync(path.join(base, f), userInfo(user).uid, userInfo(user).gid);
      const notDest = (rel: string): boolean => rel === 'dest';
      const before = snapshotTree(base, { exclude: notDest });
      const xBefore = outsideXattrs(base);
      const passwd = fs.readFileSync('/etc/passwd');

      const r = await unpackAs(user, dest, opStream(h.ops(base)), resolver === 'fallback' ? { TSPOD_HELPER_NO_OPENAT2: '1' } : undefined);

      const diff = diffSnapshots(before, snapshotTree(base, { exclude: notDest }));
      assert.ok(isEmptyDiff(diff), `changed outside DEST:\n${describeDiff(diff)}`);
      assert.is(outsideXattrs(base), xBefore, 'xattrs changed outside DEST');
      assert.ok(fs.readFileSync('/etc/passwd').equals(passwd));
      if (r.code === 1) {
        assert.type(r.json?.error, 'string', `no JSON error: ${r.stdout}${r.stderr}`);
        assert.type(r.json?.path, 'string');
      } else {
        assert.not.ok(h.refuse, `accepted: ${r.stdout}`);
        assert.is(r.code, 0, `${r.stdout}${r.stderr}`);
        h.inside?.(dest);
      }
      if (h.refuse) assert.is(r.code, 1);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// rmtree

test('rmtree: removes a tree of subuid-owned files and unwritable directories', async () => {
  const base = tempDir(TEST_USER, 'rmtree');
  const tree = userMkdir(TEST_USER, path.join(base, 'tree'));
  fs.writeFileSync(path.join(base, 'keep'), 'keep');
  const u = await unpackAs(
    TEST_USER,
    tree,
    opStream([
      { kind: 'd', path: 'ro', mode: 0o500, uid: 1000, gid: 1000 },
      { kind: 'd', path: 'ro/none', mode: 0o000, uid: 2000, gid: 2000 },
      { kind: 'f', path: 'ro/none/f', mode: 0o000, uid: 3000, gid: 3000, content: text('x') },
      { kind: 'l', path: 'ro/escape', link: '../../keep' },
      { kind: 'l', path: 'ro/escape-dir', link: '/etc' },
      { kind: 'w', path: 'ro/wh' },
      { kind: 'f', path: 'a/b/c/d/e', mode: 0o644, uid: 5, content: text('deep') },
    ]),
  );
  assert.is(u.code, 0, u.stdout + u.stderr);
  assert.is(fs.statSync(path.join(tree, 'ro/none/f')).uid, userInfo(TEST_USER).subuid[0].start + 2999);
  // as the plain user (no namespace), the subuid-owned files cannot be removed
  const plain = await runAs(TEST_USER, ['rm', '-rf', tree]);
  assert.is.not(plain.code, 0);

  const r = await runInUserns(TEST_USER, [HELPER, 'rmtree', tree, path.join(base, 'never-existed')]);
  assert.is(r.code, 0, r.stderr);
  assert.not.ok(fs.existsSync(tree));
  assert.is(fs.readFileSync(path.join(base, 'keep'), 'utf8'), 'keep');
  assert.ok(fs.existsSync('/etc/passwd'));
});

test('rmtree: as the plain user, fixes 0000/0500 modes of its own directories', async () => {
  const base = tempDir(NOSUB_USER, 'rmtree');
  const setup = ['sh', '-c', 'mkdir -p t/a/b t/c && touch t/a/b/f t/c/g && chmod 000 t/a/b && chmod 500 t/c t/a && ln -s /etc t/etc'];
  assert.is((await runAs(NOSUB_USER, setup, { cwd: base })).code, 0);
  assert.is.not((await runAs(NOSUB_USER, ['rm', '-rf', 't'], { cwd: base })).code, 0, 'rm -rf managed it: the test proves nothing');
  const r = await runAs(NOSUB_USER, [HELPER, 'rmtree', `${base}/t/`]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(fs.readdirSync(base), []);
});

test('rmtree: a tree deeper than PATH_MAX and the fd limit', async () => {
  const base = tempDir(NOSUB_USER, 'rmtree');
  const make = 'import os\nos.chdir("t") if os.path.isdir("t") else (os.mkdir("t"), os.chdir("t"))\nfor i in range(3000):\n    os.mkdir("dd"); os.chdir("dd"); open("f", "w").close()\nos.chmod(".", 0o500)';
  const setup = await runAs(NOSUB_USER, ['/usr/bin/python3', '-c', make], { cwd: base });
  assert.is(setup.code, 0, setup.stderr);
  const r = await runAs(NOSUB_USER, ['sh', '-c', `ulimit -n 32 && exec ${HELPER} rmtree ${base}/t`]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(fs.readdirSync(base), []);
});

test('rmtree: does not cross a mount point', async () => {
  const base = tempDir(TEST_USER, 'rmtree');
  const mnt = userMkdir(TEST_USER, path.join(base, 't/sub/mnt'));
  const r = await runInUserns(
    TEST_USER,
    ['sh', '-c', `mount -t tmpfs none ${mnt} && echo keep > ${mnt}/keep && ${HELPER} rmtree ${base}/t; echo "rc=$?"; cat ${mnt}/keep`],
    { mount: true },
  );
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'rc=125\nkeep\n');
  assert.match(r.stderr, /mount point/);
});

test('rmtree: refuses / and ..', async () => {
  for (const p of ['/', '/tmp/..', '.']) {
    const r = await runAs(NOSUB_USER, [HELPER, 'rmtree', p]);
    assert.is(r.code, 125, p);
    assert.match(r.stderr, /refusing to remove/);
  }
});

test.run();
