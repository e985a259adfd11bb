// The one executable: dist/tspod runs alone (no node_modules, no node on PATH, any directory), its
// embedded helper is extracted to a private per-version path and checked before each use (a
// tampered copy is replaced, never run), and packaging/install.sh puts it in ~/.local/bin.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { REGISTRY, REPO_ROOT, TEST_USER, TSPOD_BIN, runAs, userInfo, RunResult } from '../lib';

const test = suite('single executable');
const user = userInfo(TEST_USER);
const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function show(r: RunResult): string {
  return `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}

/** A directory of the user's with nothing but a copy of dist/tspod, and a PATH without node. */
function sandbox(): { dir: string; bin: string; path: string; cache: string; store: string } {
  const dir = fs.mkdtempSync('/tmp/tspod-pkg-');
  const binDir = path.join(dir, 'bin');
  const toolDir = path.join(dir, 'tools');
  fs.mkdirSync(binDir);
  fs.mkdirSync(toolDir);
  fs.copyFileSync(TSPOD_BIN, path.join(binDir, 'tspod'));
  fs.chmodSync(path.join(binDir, 'tspod'), 0o755);
  // Only what tspod itself calls: the id mapping tools (setuid root, they cannot be copied).
  for (const t of ['newuidmap', 'newgidmap']) fs.symlinkSync(`/usr/bin/${t}`, path.join(toolDir, t));
  for (const d of ['cache', 'store']) fs.mkdirSync(path.join(dir, d));
  for (const p of [dir, binDir, toolDir, path.join(dir, 'cache'), path.join(dir, 'store')]) fs.chownSync(p, user.uid, user.gid);
  return { dir, bin: path.join(binDir, 'tspod'), path: `${binDir}:${toolDir}`, cache: path.join(dir, 'cache'), store: path.join(dir, 'store') };
}

function cleanup(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

test('dist/tspod is one ELF file that runs with no node on PATH, from /, with no repository around', async () => {
  const head = Buffer.alloc(4);
  const fd = fs.openSync(TSPOD_BIN, 'r');
  fs.readSync(fd, head, 0, 4, 0);
  fs.closeSync(fd);
  assert.equal([...head], [0x7f, 0x45, 0x4c, 0x46], 'an ELF executable, not a script');
  const s = sandbox();
  try {
    const env = { PATH: s.path, XDG_CACHE_HOME: s.cache };
    const which = await runAs(TEST_USER, ['/bin/sh', '-c', 'command -v node || echo none'], { env });
    assert.is(which.stdout.trim(), 'none', 'node is not reachable on this PATH');
    const v = await runAs(TEST_USER, [s.bin, '--version'], { env, cwd: '/' });
    assert.is(v.code, 0, show(v));
    assert.is(v.stdout, `tspod version ${VERSION}\n`);
    const pull = await runAs(TEST_USER, [s.bin, '--root', s.store, 'pull', '-q', '--tls-verify=false', `${REGISTRY}/busybox`], { env, cwd: '/' });
    assert.is(pull.code, 0, show(pull));
    const run = await runAs(TEST_USER, [s.bin, '--root', s.store, 'run', '--rm', '--network', 'none', `${REGISTRY}/busybox`, 'echo', 'from one file'], { env, cwd: '/' });
    assert.is(run.code, 0, show(run));
    assert.is(run.stdout, 'from one file\n');
  } finally {
    await runAs(TEST_USER, ['rm', '-rf', s.store]);
    cleanup(s.dir);
  }
});

test('the helper is extracted once per version to a private path and a tampered copy is replaced, never run', async () => {
  const s = sandbox();
  try {
    const env = { PATH: s.path, XDG_CACHE_HOME: s.cache };
    const first = await runAs(TEST_USER, [s.bin, '--root', s.store, 'info', '--format', 'json'], { env });
    assert.is(first.code, 0, show(first));
    // info does not need the helper; images with a lock does not either: run a container.
    const pull = await runAs(TEST_USER, [s.bin, '--root', s.store, 'pull', '-q', '--tls-verify=false', `${REGISTRY}/busybox`], { env });
    assert.is(pull.code, 0, show(pull));
    const base = path.join(s.cache, 'tspod');
    const dirs = fs.readdirSync(base).filter((d) => d.startsWith(`helper-${VERSION}-`));
    assert.is(dirs.length, 1, `one extracted helper: ${fs.readdirSync(base)}`);
    const dir = path.join(base, dirs[0]);
    const helper = path.join(dir, 'tspod-helper');
    const st = fs.statSync(helper);
    const dst = fs.statSync(dir);
    assert.is(st.uid, user.uid);
    assert.is(dst.mode & 0o777, 0o700, 'its directory is private');
    assert.is(st.mode & 0o022, 0, 'nobody else may write it');
    const good = crypto.createHash('sha256').update(fs.readFileSync(helper)).digest('hex');
    assert.ok(dirs[0].endsWith(good.slice(0, 16)), 'the path names the content hash');

    // Replace it with a program that leaves a mark: tspod must notice and not run it.
    const mark = path.join(s.dir, 'tampered-ran');
    fs.writeFileSync(helper, `#!/bin/sh\ntouch ${mark}\nexit 0\n`);
    fs.chownSync(helper, user.uid, user.gid);
    fs.chmodSync(helper, 0o700);
    const run = await runAs(TEST_USER, [s.bin, '--root', s.store, 'run', '--rm', '--network', 'none', `${REGISTRY}/busybox`, 'echo', 'ok'], { env });
    assert.is(run.code, 0, show(run));
    assert.is(run.stdout, 'ok\n');
    assert.not.ok(fs.existsSync(mark), 'the tampered helper never ran');
    const now = crypto.createHash('sha256').update(fs.readFileSync(helper)).digest('hex');
    assert.is(now, good, 'the genuine helper is back');
  } finally {
    await runAs(TEST_USER, ['rm', '-rf', s.store]);
    cleanup(s.dir);
  }
});

test('install.sh puts one file in ~/.local/bin and says what the system lacks', async () => {
  const s = sandbox();
  try {
    const home = path.join(s.dir, 'home');
    fs.mkdirSync(home);
    fs.chownSync(home, user.uid, user.gid);
    const r = await runAs(TEST_USER, ['sh', path.join(REPO_ROOT, 'packaging', 'install.sh'), s.bin], { env: { HOME: home, PATH: '/usr/bin:/bin' } });
    assert.is(r.code, 0, show(r));
    const installed = path.join(home, '.local', 'bin', 'tspod');
    assert.ok(fs.statSync(installed).isFile());
    assert.is(fs.statSync(installed).mode & 0o777, 0o755);
    assert.match(r.stderr, /\.local\/bin is not in PATH/, 'it says the bin directory is not on PATH');
    assert.not.match(r.stderr, /newuidmap is missing/, 'uidmap is installed here');
    const v = await runAs(TEST_USER, [installed, '--version'], { env: { HOME: home } });
    assert.is(v.stdout, `tspod version ${VERSION}\n`);
    // Completions where each shell looks for a user's own.
    const bash = fs.readFileSync(path.join(home, '.local/share/bash-completion/completions/tspod'), 'utf8');
    assert.match(bash, /complete .*tspod/);
    assert.match(fs.readFileSync(path.join(home, '.local/share/zsh/site-functions/_tspod'), 'utf8'), /^#compdef tspod/);
    assert.match(fs.readFileSync(path.join(home, '.config/fish/completions/tspod.fish'), 'utf8'), /complete -c tspod/);
  } finally {
    cleanup(s.dir);
  }
});

test('package.sh makes a release tarball and a .deb that names its dependencies', async () => {
  const { execFileSync } = await import('node:child_process');
  const out = execFileSync('sh', [path.join(REPO_ROOT, 'packaging', 'package.sh')], { cwd: REPO_ROOT, encoding: 'utf8' });
  const [tarball, deb] = out.trim().split('\n').map((l) => path.join(REPO_ROOT, l));
  assert.match(tarball, new RegExp(`tspod-${VERSION.replace(/\./g, '\\.')}-linux-amd64\\.tar\\.gz$`));
  const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
  for (const f of ['tspod', 'install.sh', 'completions/tspod.bash', 'completions/_tspod', 'completions/tspod.fish', 'man/tspod.1', 'man/tspod-run.1']) {
    assert.ok(listing.includes(`tspod-${VERSION}/${f}`), `${f} in the tarball`);
  }
  const field = (name: string) => execFileSync('dpkg-deb', ['-f', deb, name], { encoding: 'utf8' }).trim();
  assert.is(field('Package'), 'tspod');
  assert.is(field('Version'), VERSION);
  assert.is(field('Depends'), 'uidmap, fuse-overlayfs');
  assert.is(field('Recommends'), 'passt | slirp4netns');
  const files = execFileSync('dpkg-deb', ['-c', deb], { encoding: 'utf8' });
  assert.match(files, /-rwxr-xr-x root\/root .* \.\/usr\/bin\/tspod\n/);
  assert.match(files, /\.\/usr\/share\/bash-completion\/completions\/tspod\n/);
  assert.match(files, /\.\/usr\/share\/man\/man1\/tspod-run\.1\.gz\n/);
  // The man page is a man page.
  const man = execFileSync('tar', ['-xzOf', tarball, `tspod-${VERSION}/man/tspod-run.1`], { encoding: 'utf8' });
  assert.match(man, /^\.TH TSPOD-RUN 1/);
  assert.match(man, /\.SH NAME\ntspod-run \\- Run a command in a new container/);
});

test.run();
