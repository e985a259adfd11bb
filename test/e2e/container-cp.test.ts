// `tspod cp` as the test user: files and trees both ways, running and stopped containers, tar
// streams on stdin and stdout, podman's rules for existing and missing destinations, and hostile
// container symlinks (to "/" and "../../..", and to host paths the user could write) that must
// never lead a copy outside the container's root.

import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { listTar, TEST_USER, userInfo } from '../lib';
import { IMAGE, openBed, show, until, userDir, userFile, type Bed } from './container-session-util';

const MTIME = new Date('2001-02-03T04:05:06Z');
const MTIME_S = String(MTIME.getTime() / 1000);
let bed: Bed;
let work: string;
let me: { uid: number; gid: number };

async function inCtr(ctr: string, script: string): Promise<string> {
  const r = await bed.t(['exec', ctr, 'sh', '-c', script]);
  assert.is(r.code, 0, show(r));
  return r.stdout;
}

/** tspod cp in the work directory. */
function cp(...args: string[]) {
  return bed.t(['cp', ...args], { cwd: work });
}

test.before(async () => {
  bed = await openBed();
  work = userDir('cp');
  me = userInfo(TEST_USER);
  userFile(path.join(work, 'hello.txt'), 'hello\n', 0o640, MTIME);
  userFile(path.join(work, 'tree', 'a.txt'), 'A\n', 0o600, MTIME);
  userFile(path.join(work, 'tree', 'sub', 'b.sh'), '#!/bin/sh\n', 0o755);
  fs.symlinkSync('a.txt', path.join(work, 'tree', 'link'));
  fs.mkdirSync(path.join(work, 'tree', 'empty'), { mode: 0o700 });
  fs.mkdirSync(path.join(work, 'victim'));
  userFile(path.join(work, 'secret.txt'), 'host-secret\n');
  execFileSync('chown', ['-R', '-h', `${me.uid}:${me.gid}`, work]);

  const setup = [
    'mkdir -p /data/sub', 'echo from-container > /data/sub/f', 'chmod 600 /data/sub/f', 'ln -s /etc /data/etc-link',
    // the hostile ones: to the root, above it, and to host paths the user could write
    'ln -s / /escape', 'ln -s ../../../../ /up', `ln -s ${work} /hostwork`, 'touch /ready', 'exec sleep 600',
  ].join('; ');
  const r = await bed.t(['run', '-d', '--name', 'web', '-w', '/srv', IMAGE, 'sh', '-c', setup]);
  assert.is(r.code, 0, show(r));
  await until('the container to be set up', async () => ((await bed.t(['exec', 'web', 'test', '-e', '/ready'])).code === 0 ? true : undefined));
});

test.after(() => {
  bed?.close();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('a file goes in with its mode, mtime and content, owned by the container\'s root', async () => {
  const r = await cp('hello.txt', 'web:/tmp/');
  assert.is(r.code, 0, show(r));
  assert.is(await inCtr('web', 'stat -c "%a %u:%g %Y" /tmp/hello.txt; cat /tmp/hello.txt'), `640 0:0 ${MTIME_S}\nhello\n`);
  // under a new name, and relative to the working directory
  assert.is((await cp('hello.txt', 'web:/tmp/renamed')).code, 0);
  assert.is((await cp('hello.txt', 'web:rel.txt')).code, 0);
  assert.is(await inCtr('web', 'cat /tmp/renamed /srv/rel.txt'), 'hello\nhello\n');
  // -a keeps the owner the file has on the host
  assert.is((await cp('-a', 'hello.txt', 'web:/tmp/kept')).code, 0);
  assert.is(await inCtr('web', 'stat -c "%u:%g" /tmp/kept'), `${me.uid}:${me.gid}\n`);
});

test('a directory goes in recursively: into an existing one, as a new one, or its contents with /.', async () => {
  assert.is((await cp('tree', 'web:/tmp/')).code, 0);
  const listing = 'cd $D && find . | sort && stat -c "%n %a" a.txt sub/b.sh empty && readlink link && cat a.txt';
  const expected = './\n./a.txt\n./empty\n./link\n./sub\n./sub/b.sh\na.txt 600\nsub/b.sh 755\nempty 700\na.txt\nA\n'.replace('./\n', '.\n');
  assert.is(await inCtr('web', `D=/tmp/tree; ${listing}`), expected);
  assert.is((await cp('tree', 'web:/tmp/newname')).code, 0);
  assert.is(await inCtr('web', `D=/tmp/newname; ${listing}`), expected);
  await inCtr('web', 'mkdir /tmp/contents');
  assert.is((await cp('tree/.', 'web:/tmp/contents')).code, 0);
  assert.is(await inCtr('web', `D=/tmp/contents; ${listing}; test ! -e /tmp/contents/tree && echo no-tree`), expected + 'no-tree\n');
});

test('a file and a directory come out with modes and mtimes, owned by the user', async () => {
  assert.is((await cp('web:/data/sub/f', 'out-f')).code, 0);
  const st = fs.statSync(path.join(work, 'out-f'));
  assert.is(fs.readFileSync(path.join(work, 'out-f'), 'utf8'), 'from-container\n');
  assert.equal([st.mode & 0o7777, st.uid, st.gid], [0o600, me.uid, me.gid]);

  await inCtr('web', `touch -d @${MTIME_S} /data/sub/f`);
  assert.is((await cp('web:/data', '.')).code, 0);
  assert.is(fs.readFileSync(path.join(work, 'data', 'sub', 'f'), 'utf8'), 'from-container\n');
  assert.is(fs.statSync(path.join(work, 'data', 'sub', 'f')).mtime.getTime(), MTIME.getTime());
  // a symlink inside the tree is copied as a symlink, never followed
  const link = path.join(work, 'data', 'etc-link');
  assert.ok(fs.lstatSync(link).isSymbolicLink());
  assert.is(fs.readlinkSync(link), '/etc');

  assert.is((await cp('web:/data/.', 'data-contents')).code, 0);
  assert.ok(fs.existsSync(path.join(work, 'data-contents', 'sub', 'f')));
  assert.is((await cp('web:/etc/hostname', '.')).code, 0);
  assert.is(fs.readFileSync(path.join(work, 'hostname'), 'utf8'), (await inCtr('web', 'cat /etc/hostname')));
});

test('"-" streams a tar archive out, and takes one in', async () => {
  const out = await bed.t(['cp', 'web:/data', '-']);
  assert.is(out.code, 0, out.stderr);
  const members = listTar(Buffer.from(out.stdout, 'utf8'));
  const f = members.find((m) => m.name === 'data/sub/f');
  assert.ok(f, members.map((m) => m.name).join(' '));
  assert.is(f!.data.toString(), 'from-container\n');
  assert.is(f!.mode & 0o7777, 0o600);
  assert.ok(members.some((m) => m.name === 'data/sub/' && m.typeflag === '5'));
  assert.ok(members.some((m) => m.name === 'data/etc-link' && m.typeflag === '2' && m.linkname === '/etc'));

  const tar = execFileSync('tar', ['-C', path.join(work, 'tree'), '--owner=1234', '--group=1234', '-cf', '-', '.']);
  await inCtr('web', 'mkdir -p /tmp/from-tar /tmp/from-tar-a');
  const r = await bed.t(['cp', '-', 'web:/tmp/from-tar'], { input: tar });
  assert.is(r.code, 0, show(r));
  assert.is(await inCtr('web', 'stat -c "%a %u:%g %Y" /tmp/from-tar/a.txt; cat /tmp/from-tar/a.txt'), `600 0:0 ${MTIME_S}\nA\n`);
  assert.is((await bed.t(['cp', '-a', '-', 'web:/tmp/from-tar-a'], { input: tar })).code, 0);
  assert.is(await inCtr('web', 'stat -c "%u:%g" /tmp/from-tar-a/sub/b.sh'), '1234:1234\n');
  const gz = execFileSync('tar', ['-C', work, '-czf', '-', 'hello.txt']);
  assert.is((await bed.t(['cp', '-', 'web:/tmp/from-tar'], { input: gz })).code, 0);
  assert.is(await inCtr('web', 'cat /tmp/from-tar/hello.txt'), 'hello\n');
});

test('symlinks in the container never lead a copy out of it', async () => {
  // Out: /escape and /up resolve to the container's root, so these are the container's files.
  assert.is((await cp('web:/escape/etc/passwd', 'esc-passwd')).code, 0);
  assert.is((await cp('web:/up/etc/hostname', 'up-hostname')).code, 0);
  assert.is(fs.readFileSync(path.join(work, 'esc-passwd'), 'utf8'), await inCtr('web', 'cat /etc/passwd'));
  assert.is.not(fs.readFileSync(path.join(work, 'esc-passwd'), 'utf8'), fs.readFileSync('/etc/passwd', 'utf8'));
  assert.is(fs.readFileSync(path.join(work, 'up-hostname'), 'utf8'), await inCtr('web', 'cat /etc/hostname'));
  // A host file the user can read is not reachable through them.
  const secret = await cp(`web:/up${work}/secret.txt`, 'stolen');
  assert.is(secret.code, 125, show(secret));
  assert.match(secret.stderr, /could not be found on container web: no such file or directory/);
  assert.is((await cp('web:/hostwork/secret.txt', 'stolen')).code, 125);
  assert.not.ok(fs.existsSync(path.join(work, 'stolen')));

  // In: a name the host's /tmp does not have, written through /up, lands in the container's /tmp.
  const name = `tspod-cp-escape-${crypto.randomBytes(4).toString('hex')}`;
  assert.is((await cp('hello.txt', `web:/up/tmp/${name}`)).code, 0);
  assert.is((await cp('hello.txt', `web:/escape/${name}`)).code, 0);
  assert.not.ok(fs.existsSync(`/tmp/${name}`), 'nothing written to the host\'s /tmp');
  assert.not.ok(fs.existsSync(`/${name}`), 'nothing written to the host\'s /');
  assert.is(await inCtr('web', `cat /tmp/${name} /${name}`), 'hello\nhello\n');
  // A host directory the user can write is not reachable either, not even once the container
  // has a directory of that name: that one is written.
  const into = await cp('hello.txt', 'web:/hostwork/victim/');
  assert.is(into.code, 125, show(into));
  assert.is((await cp('tree', `web:/escape${work}/victim/`)).code, 125);
  await inCtr('web', `mkdir -p ${work}/victim`);
  assert.is((await cp('tree', 'web:/hostwork/victim/')).code, 0);
  assert.is(await inCtr('web', `cat ${work}/victim/tree/a.txt`), 'A\n');
  assert.equal(fs.readdirSync(path.join(work, 'victim')), [], 'the host directory stays empty');
});

test('a stopped container: in and out through its own root, hostile symlinks included', async () => {
  const r = await bed.t(['run', '--name', 'st', IMAGE, 'sh', '-c', 'ln -s / /escape; ln -s ../../../../ /up']);
  assert.is(r.code, 0, show(r));
  const name = `tspod-cp-stopped-${crypto.randomBytes(4).toString('hex')}`;
  assert.is((await cp('hello.txt', `st:/up/tmp/${name}`)).code, 0);
  assert.is((await cp('tree', 'st:/tmp/')).code, 0);
  assert.not.ok(fs.existsSync(`/tmp/${name}`));
  assert.is((await cp(`st:/escape/tmp/${name}`, 'st-back')).code, 0);
  assert.is(fs.readFileSync(path.join(work, 'st-back'), 'utf8'), 'hello\n');
  assert.is((await cp('st:/escape/etc/passwd', 'st-passwd')).code, 0);
  assert.is(fs.readFileSync(path.join(work, 'st-passwd'), 'utf8'), fs.readFileSync(path.join(work, 'esc-passwd'), 'utf8'));
  // What went in is in the container's writable layer: it sees it when it runs.
  assert.is((await bed.t(['create', '--name', 'st2', IMAGE, 'cat', '/tmp/hello.txt'])).code, 0);
  assert.is((await cp('hello.txt', 'st2:/tmp/')).code, 0);
  const run = await bed.t(['start', '-a', 'st2']);
  assert.is(run.stdout, 'hello\n', show(run));
  // and between containers, the running one to the stopped one
  assert.is((await cp('web:/data/sub/f', 'st2:/tmp/')).code, 0);
  assert.is((await cp('st2:/tmp/f', 'between')).code, 0);
  assert.is(fs.readFileSync(path.join(work, 'between'), 'utf8'), 'from-container\n');
});

test('errors: podman\'s words, and nothing replaced on a conflict', async () => {
  const cases: Array<[string[], string, Buffer?]> = [
    [['web:/nosuch', '.'], 'Error: "/nosuch" could not be found on container web: no such file or directory'],
    [['./nosuch', 'web:/tmp/'], 'Error: "./nosuch" could not be found on the host: no such file or directory'],
    [['hello.txt', 'web:/nonexistent/dir/'], 'Error: "/nonexistent/dir/" could not be found on container web: no such file or directory'],
    [['tree', 'web:/tmp/hello.txt'], 'Error: destination must be a directory when copying a directory'],
    [['web:/data', 'hello.txt'], 'Error: destination must be a directory when copying a directory'],
    [['-', 'web:/tmp/hello.txt'], 'Error: destination must be a directory when copying from stdin'],
    [['-', 'web:/tmp'], 'Error: source must be a (compressed) tar archive when copying from stdin', Buffer.from('not a tar archive at all\n'.repeat(40))],
    [['hello.txt', 'other.txt'], 'Error: invalid arguments hello.txt, other.txt: one of them must be CONTAINER:PATH'],
    [['hello.txt', 'nosuch:/tmp'], 'Error: no container with name or ID "nosuch" found: no such container'],
  ];
  for (const [args, message, input] of cases) {
    const r = await bed.t(['cp', ...args], { cwd: work, ...(input ? { input } : {}) });
    assert.is(r.code, 125, `${args.join(' ')}: ${show(r)}`);
    assert.is(r.stderr.trim(), message, args.join(' '));
  }
  // A file in the source where the destination has a directory: refused, the directory kept.
  await inCtr('web', 'mkdir -p /tmp/conflict/tree/a.txt && echo keep > /tmp/conflict/tree/a.txt/inside');
  const r = await cp('tree', 'web:/tmp/conflict/');
  assert.is(r.code, 125, show(r));
  assert.match(r.stderr, /cannot overwrite directory "tmp\/conflict\/tree\/a.txt" with non-directory/);
  assert.is(await inCtr('web', 'cat /tmp/conflict/tree/a.txt/inside'), 'keep\n');
});

test.run();
