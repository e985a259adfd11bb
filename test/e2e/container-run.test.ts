// `tspod run` in the foreground as a user sees it: the container's own namespaces, hostname, id
// maps, capabilities, the file system (overlay root, read-only layers, binds, tmpfs, --read-only),
// exit codes and their messages, a terminal, signals, many runs at once, the single-uid fallback
// and fuse-overlayfs. The probe image's /probe (test/setup/probe/probe.c) reports each fact.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describeDiff, diffSnapshots, fixtures, isEmptyDiff, NOSUB_USER, snapshotTree, TEST_USER, TSPOD_BIN, userInfo, withPty } from '../lib';
import {
  attachSockets,
  closeBed,
  DEFAULT_CAPS_KERNEL_ORDER,
  leftovers,
  lines,
  NOTHING_LEFT,
  openBed,
  processesMentioning,
  PROBE,
  spawnTspod,
  type Bed,
} from './container-helpers';
import { assertOneLineError, layerDiff, show } from './image-helpers';

let bed: Bed;
const made: string[] = [];

test.before(async () => {
  bed = await openBed(TEST_USER, [PROBE]);
});

test.after(async () => {
  await closeBed(bed);
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** `run --rm [FLAGS] PROBE /probe ARGS...` and its output; asserts exit 0. */
async function probe(args: string[], flags: string[] = []): Promise<string> {
  return (await bed.ok(['run', '--rm', ...flags, PROBE, '/probe', ...args])).stdout;
}

/** `run --rm [FLAGS] PROBE sh -c SCRIPT` and its output; asserts exit 0. */
async function sh(script: string, flags: string[] = []): Promise<string> {
  return (await bed.ok(['run', '--rm', ...flags, PROBE, 'sh', '-c', script])).stdout;
}

/** A host directory the test user owns (mode `mode`), removed after the file. */
function hostDir(mode = 0o755): string {
  const u = userInfo(TEST_USER);
  const dir = fs.mkdtempSync('/tmp/tspod-ctr-run-');
  fs.chownSync(dir, u.uid, u.gid);
  fs.chmodSync(dir, mode);
  made.push(dir);
  return dir;
}

const ns = (link: string) => fs.readlinkSync(link);

// ---------------------------------------------------------------------------------------------
// Namespaces, identity, privileges

test('pid 1 of its own pid namespace, in namespaces of its own, and no host process visible', async () => {
  const [nsOut, procs] = await Promise.all([probe(['ns']), probe(['procs'])]);
  const [first, ...links] = lines(nsOut);
  assert.is(first, 'pid=1 ppid=0');
  for (const kind of ['ipc', 'mnt', 'net', 'pid', 'user', 'uts']) {
    const inside = links.find((l) => l.startsWith(`${kind}:`));
    assert.ok(inside, `${kind} namespace listed: ${nsOut}`);
    assert.is.not(inside, ns(`/proc/self/ns/${kind}`), `${kind}: a namespace of its own`);
  }
  assert.equal(lines(procs), ['1 probe'], 'the container sees itself only');
});

test('hostname: the short ID by default, --hostname sets it, /etc/hostname agrees', async () => {
  const r = await bed.ok(['run', '--name', 'hn-default', PROBE, 'sh', '-c', '/probe hostname; cat /etc/hostname']);
  const id = (await bed.ok(['inspect', '--format', '{{.Id}}', 'hn-default'])).stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.equal(lines(r.stdout), [id.slice(0, 12), id.slice(0, 12)]);
  await bed.ok(['rm', 'hn-default']);
  assert.equal(lines(await sh('/probe hostname; cat /etc/hostname; echo $HOSTNAME', ['--hostname', 'box.example'])), [
    'box.example',
    'box.example',
    'box.example',
  ]);
});

test('uid_map and gid_map: root is the user, 1.. the subordinate range', async () => {
  const u = userInfo(TEST_USER);
  const out = await sh('cat /proc/self/uid_map; echo --; cat /proc/self/gid_map; echo --; /probe id');
  const [uidMap, gidMap, id] = out.split('--\n').map((s) => lines(s).map((l) => l.trim().split(/\s+/).join(' ')));
  assert.equal(uidMap, [`0 ${u.uid} 1`, `1 ${u.subuid[0].start} ${u.subuid[0].count}`]);
  assert.equal(gidMap, [`0 ${u.gid} 1`, `1 ${u.subgid[0].start} ${u.subgid[0].count}`]);
  assert.equal(id, ['uid=0 gid=0 groups=0']);
});

test("capabilities: podman's default set; --cap-add NET_RAW and --cap-drop CHOWN change it; none for a non-root user", async () => {
  const caps = (out: string) => Object.fromEntries(lines(out).map((l) => [l.split(':')[0], (l.split(':')[1] ?? '').trim()]));
  const [def, changed, user] = await Promise.all([
    probe(['caps']),
    probe(['caps'], ['--cap-add', 'NET_RAW', '--cap-drop', 'CHOWN']),
    probe(['caps'], ['-u', '1000']),
  ]);
  const d = caps(def);
  assert.is(d.eff, DEFAULT_CAPS_KERNEL_ORDER.join(','), def);
  assert.is(d.prm, d.eff);
  assert.is(d.bnd, d.eff);
  assert.is(d.inh, '');
  assert.is(d.amb, '');
  const c = caps(changed);
  const want = DEFAULT_CAPS_KERNEL_ORDER.filter((x) => x !== 'CHOWN');
  want.splice(want.indexOf('NET_BIND_SERVICE') + 1, 0, 'NET_RAW');
  assert.is(c.eff, want.join(','), changed);
  assert.is(c.bnd, want.join(','));
  const u = caps(user);
  assert.is(u.eff, '', `uid 1000 has no effective capabilities: ${user}`);
  assert.is(u.prm, '');
  assert.is(u.bnd, d.bnd, 'the bounding set is the same');
});

test('NoNewPrivs is set', async () => {
  const out = await sh('/probe nnp; grep NoNewPrivs /proc/self/status');
  assert.equal(lines(out).map((l) => l.replace(/\s+/g, ' ')), ['1', 'NoNewPrivs: 1']);
});

test('masked paths read as empty, read-only paths refuse writes', async () => {
  assert.ok(fs.readFileSync('/proc/interrupts', 'utf8').length > 0, 'the host has /proc/interrupts');
  const out = await sh('echo "interrupts=$(/probe read /proc/interrupts | wc -c)"; echo "timer_list=$(/probe read /proc/timer_list | wc -c)"; echo "firmware=$(/probe ls /sys/firmware | wc -l)"; echo "acpi=$(/probe ls /proc/acpi | wc -l)"; /probe write /proc/sys/kernel/hostname x; /probe write /proc/sys/vm/overcommit_memory 1; grep -c " /proc/bus ro," /proc/self/mountinfo');
  assert.equal(lines(out), [
    'interrupts=0',
    'timer_list=0',
    'firmware=0',
    'acpi=0',
    'error: open /proc/sys/kernel/hostname: Read-only file system',
    'error: open /proc/sys/vm/overcommit_memory: Read-only file system',
    '1',
  ]);
});

// ---------------------------------------------------------------------------------------------
// The file system

test('the root is an overlay; writes land in the upper layer, never in the image layers', async () => {
  const probeImage = fixtures().images.probe;
  const diffs = probeImage.diffIds.map((d) => layerDiff(bed.store, d));
  const before = diffs.map((d) => snapshotTree(d));
  const r = await bed.ok([
    'run',
    '--name',
    'writer',
    PROBE,
    'sh',
    '-c',
    '/probe fstype /; grep " / / " /proc/self/mountinfo | sed "s/.* - //" | cut -d" " -f1; echo changed >> /etc/passwd; rm /bin/ls; echo new > /probe-new; chmod 700 /probe; /probe write /bin/busybox junk',
  ]);
  assert.equal(lines(r.stdout), ['overlay', 'overlay', 'ok']);
  diffs.forEach((d, i) => {
    const diff = diffSnapshots(before[i], snapshotTree(d));
    assert.ok(isEmptyDiff(diff), `layer ${d} changed:\n${describeDiff(diff)}`);
  });
  const id = (await bed.ok(['inspect', '--format', '{{.Id}}', 'writer'])).stdout.trim();
  const upper = path.join(bed.store, 'containers', id, 'upper');
  assert.match(fs.readFileSync(path.join(upper, 'etc/passwd'), 'utf8'), /changed\n$/);
  assert.is(fs.readFileSync(path.join(upper, 'probe-new'), 'utf8'), 'new\n');
  assert.is(fs.readFileSync(path.join(upper, 'bin/busybox'), 'utf8'), 'junk');
  const wh = fs.lstatSync(path.join(upper, 'bin/ls'));
  assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'rm left a whiteout in the upper layer');
  await bed.ok(['rm', 'writer']);
});

test("a read-write bind mount's new files belong to the user on the host; a read-only one refuses writes", async () => {
  const u = userInfo(TEST_USER);
  const rw = hostDir();
  const ro = hostDir();
  fs.writeFileSync(path.join(ro, 'keep'), 'keep\n');
  const out = await sh('/probe write /rw/new hello; mkdir /rw/sub; /probe write /ro/keep x; /probe write /ro/other; /probe read /ro/keep', [
    '-v',
    `${rw}:/rw`,
    '-v',
    `${ro}:/ro:ro`,
  ]);
  assert.equal(lines(out), ['ok', 'error: open /ro/keep: Read-only file system', 'error: open /ro/other: Read-only file system', 'keep']);
  for (const p of ['new', 'sub']) {
    const st = fs.statSync(path.join(rw, p));
    assert.is(st.uid, u.uid, `${p} owned by the user`);
    assert.is(st.gid, u.gid);
  }
  assert.is(fs.readFileSync(path.join(rw, 'new'), 'utf8'), 'hello');
  assert.equal(fs.readdirSync(ro), ['keep']);
  assert.is(fs.readFileSync(path.join(ro, 'keep'), 'utf8'), 'keep\n');
});

test('--tmpfs mounts a writable tmpfs; --read-only makes the rest read-only but keeps /tmp, /run and /var/tmp writable', async () => {
  const [tmpfs, ro, roNoTmp] = await Promise.all([
    sh('/probe fstype /scratch; /probe write /scratch/f; /probe read /scratch/f', ['--tmpfs', '/scratch']),
    sh('for p in /etc/x /probe-new /scratch/x /tmp/x /run/x /var/tmp/x; do /probe write $p; done; /probe fstype /tmp', ['--read-only', '--tmpfs', '/scratch']),
    bed.run(['run', '--rm', '--read-only', '--read-only-tmpfs=false', PROBE, '/probe', 'write', '/tmp/x']).then((r) => r.stdout),
  ]);
  assert.equal(lines(tmpfs), ['tmpfs', 'ok', 'probe']);
  assert.equal(lines(ro), [
    'error: open /etc/x: Read-only file system',
    'error: open /probe-new: Read-only file system',
    'ok',
    'ok',
    'ok',
    'ok',
    'tmpfs',
  ]);
  assert.equal(lines(roNoTmp), ['error: open /tmp/x: Read-only file system']);
});

test('-w: the working directory, created when missing; the image WorkingDir otherwise', async () => {
  const [made, dflt] = await Promise.all([sh('/probe cwd; ls -ld /new/dir | cut -c1-10', ['-w', '/new/dir']), probe(['cwd'])]);
  assert.equal(lines(made), ['/new/dir', 'drwxr-xr-x']);
  assert.equal(lines(dflt), ['/']);
});

// ---------------------------------------------------------------------------------------------
// Exit codes and what the user reads

test('exit codes 0, 1 and 42 are the container’s own, with nothing on stderr', async () => {
  const rs = await Promise.all([0, 1, 42].map((n) => bed.run(['run', '--rm', PROBE, '/probe', 'exit', String(n)])));
  rs.forEach((r, i) => {
    assert.is(r.code, [0, 1, 42][i], show(r));
    assert.is(r.stderr, '', show(r));
  });
});

test('exit 125: a bad flag, a missing image; 126: not executable; 127: not found — one line each, nothing left', async () => {
  const [flag, image, noexec, dir, missing, missingPath] = await Promise.all([
    bed.run(['run', '--rm', '--bogus', PROBE]),
    bed.run(['run', '--rm', 'localhost:5000/nosuch:latest']),
    bed.run(['run', '--rm', PROBE, '/etc/passwd']),
    bed.run(['run', '--rm', PROBE, '/tmp']),
    bed.run(['run', '--rm', PROBE, '/nonexistent']),
    bed.run(['run', '--rm', PROBE, 'nosuchcommand', 'arg']),
  ]);
  assertOneLineError(flag, /^Error: unknown flag: --bogus$/, 125);
  assertOneLineError(image, /^Error: initializing source docker:\/\/localhost:5000\/nosuch:latest: .*manifest unknown/, 125);
  assertOneLineError(noexec, /^Error: open executable `\/etc\/passwd`: Permission denied$/, 126);
  assertOneLineError(dir, /^Error: open executable `\/tmp`: Permission denied$/, 126);
  // podman: Error: crun: executable file `/nonexistent` not found in $PATH: No such file or directory: ...
  assertOneLineError(missing, /^Error: executable file `\/nonexistent` not found in \$PATH: No such file or directory$/, 127);
  assertOneLineError(missingPath, /^Error: executable file `nosuchcommand` not found in \$PATH: No such file or directory$/, 127);
  const left = leftovers(bed.store);
  assert.equal(left.containers, [], '--rm removed the containers that failed to start');
  assert.equal(left.names, []);
});

// ---------------------------------------------------------------------------------------------
// Terminal and signals

test('-t under a real terminal: the container has a tty on stdin, stdout and stderr; -it runs a shell', async () => {
  const base = [TSPOD_BIN, '--root', bed.store, 'run', '--rm'];
  const t = await withPty(TEST_USER, [...base, '-t', PROBE, '/probe', 'isatty'], { timeout: 30_000 });
  assert.is(t.code, 0, t.output);
  // The container's terminal turns \n into \r\n, and ours must not add a second \r (podman: hi\r\n).
  assert.match(t.output, /stdin=1 stdout=1 stderr=1\r\n/);
  assert.not.match(t.output, /\r\r\n/);
  const sh = await withPty(TEST_USER, [...base, '-it', PROBE, 'sh'], {
    timeout: 30_000,
    steps: [
      { expect: '# ', send: 'echo answer=$((6*7)); tty\r' },
      { expect: 'answer=42', send: 'exit 5\r' },
    ],
  });
  assert.is(sh.stuckAt, undefined, sh.output);
  assert.is(sh.code, 5, sh.output);
  assert.match(sh.output, /\/dev\/pts\/0/);
  const plain = await bed.ok(['run', '--rm', PROBE, '/probe', 'isatty']);
  assert.is(plain.stdout, 'stdin=0 stdout=0 stderr=0\n', 'without -t nothing is a terminal');
});

test('SIGTERM to tspod reaches the container process (it exits 3 on its own terms)', async () => {
  const live = spawnTspod(TEST_USER, bed.store, ['run', '--rm', PROBE, '/probe', 'sleep-trap']);
  await live.waitFor('ready\n', 20_000);
  process.kill(live.pid, 'SIGTERM');
  const r = await live.exited;
  assert.is(r.code, 3, show(r));
  assert.is(r.stdout, 'ready\ngot SIGTERM\n');
  assert.equal(leftovers(bed.store).containers, []);
});

// ---------------------------------------------------------------------------------------------
// Many at once, and what is left

test('10 parallel run --rm all succeed and leave nothing: no container, name, temporary, mount, process or socket', async () => {
  const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => bed.run(['run', '--rm', '--name', `par${i}`, PROBE, 'sh', '-c', `echo run ${i}; /probe hostname`])));
  const hostnames = new Set<string>();
  rs.forEach((r, i) => {
    assert.is(r.code, 0, show(r));
    const [a, h] = lines(r.stdout);
    assert.is(a, `run ${i}`);
    hostnames.add(h);
  });
  assert.is(hostnames.size, 10, 'each its own container');
  assert.equal(leftovers(bed.store), NOTHING_LEFT);
  assert.equal(processesMentioning(bed.store), [], 'no tspod, helper or fuse process of this store');
  assert.equal((await bed.ok(['ps', '-a', '-q'])).stdout, '');
});

// ---------------------------------------------------------------------------------------------
// The command, the environment, the user

test('ENTRYPOINT and CMD: args replace CMD, --entrypoint replaces ENTRYPOINT and drops CMD', async () => {
  const l = `localhost:5000/layered:latest`;
  await bed.ok(['pull', '-q', l]);
  const run = async (args: string[]) => (await bed.ok(['run', '--rm', ...args])).stdout;
  const [dflt, replaced, none, echoOnly, echoArgs, jsonEp] = await Promise.all([
    run([l]),
    run([l, 'echo args replace $LAYERED']),
    run(['--entrypoint', '', l, 'echo', 'no', 'entrypoint']),
    run(['--entrypoint', '/bin/echo', l]),
    run(['--entrypoint', '/bin/echo', l, 'a', 'b']),
    run(['--entrypoint', '["/bin/echo","x"]', l, 'y']),
  ]);
  assert.is(dflt, 'layered\n', 'Entrypoint ["/bin/sh","-c"] + Cmd ["echo layered"]');
  assert.is(replaced, 'args replace 1\n');
  assert.is(none, 'no entrypoint\n');
  assert.is(echoOnly, '\n', "the image's CMD is not passed to a new entrypoint");
  assert.is(echoArgs, 'a b\n');
  assert.is(jsonEp, 'x y\n');
  const empty = await bed.run(['run', '--rm', '--entrypoint', '', l]);
  assertOneLineError(empty, /^Error: no command or entrypoint provided, and no CMD or ENTRYPOINT from image$/, 125);
  const created = await bed.ok(['create', '--name', 'epcmd', '--entrypoint', '/bin/echo', l, 'p', 'q']);
  assert.match(created.stdout, /^[0-9a-f]{64}\n$/);
  assert.is((await bed.ok(['inspect', '--format', '{{.Path}} {{.Args}}', 'epcmd'])).stdout, '/bin/echo [p q]\n');
  await bed.ok(['rm', 'epcmd']);
});

test('environment: default PATH, HOSTNAME, HOME; -e, -e NAME from the host, --env-file; later wins', async () => {
  const dir = hostDir();
  const file = path.join(dir, 'env');
  fs.writeFileSync(file, '# a comment\nFROM_FILE=file\nBOTH=file\nFROM_HOST_VIA_FILE\n\n');
  fs.chmodSync(file, 0o644);
  const r = await bed.ok(
    ['run', '--rm', '--hostname', 'envbox', '--env-file', file, '-e', 'BOTH=flag', '-e', 'FOO=bar=baz', '-e', 'HOST_VAR', '-e', 'NOT_ON_HOST', PROBE, '/probe', 'env'],
    { env: { HOST_VAR: 'from host', FROM_HOST_VIA_FILE: 'via file' } },
  );
  const env = lines(r.stdout);
  const get = (k: string) => env.find((l) => l.startsWith(`${k}=`));
  assert.is(get('PATH'), 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'the probe image has no Env: the default PATH');
  assert.is(get('HOSTNAME'), 'HOSTNAME=envbox');
  assert.is(get('HOME'), 'HOME=/root');
  assert.is(get('FROM_FILE'), 'FROM_FILE=file');
  assert.is(get('FROM_HOST_VIA_FILE'), 'FROM_HOST_VIA_FILE=via file');
  assert.is(get('BOTH'), 'BOTH=flag', '-e wins over --env-file');
  assert.is(get('FOO'), 'FOO=bar=baz');
  assert.is(get('HOST_VAR'), 'HOST_VAR=from host');
  assert.is(get('NOT_ON_HOST'), undefined, '-e NAME without a host value is left out');
  assert.is(get('TERM'), undefined, 'TERM only with -t');
  assert.is(new Set(env.map((l) => l.split('=')[0])).size, env.length, 'each variable once');
});

test('--env-file naming a missing file: one line, exit 125', async () => {
  const missing = await bed.run(['run', '--rm', '--env-file', '/nonexistent/env', PROBE]);
  assertOneLineError(missing, /^Error: .*\/nonexistent\/env.*no such file or directory/i, 125);
});

test('-u uid:gid and -u name; a non-root user writes to a bind mount as a subordinate id', async () => {
  const u = userInfo(TEST_USER);
  const shared = hostDir(0o777);
  const [numeric, named, withGroup] = await Promise.all([
    sh(`/probe id; /probe write /shared/by1000`, ['-u', '1000:1000', '-v', `${shared}:/shared`]),
    probe(['id'], ['-u', 'user']),
    probe(['id'], ['-u', '1000:0']),
  ]);
  assert.equal(lines(numeric), ['uid=1000 gid=1000 groups=1000', 'ok']);
  assert.equal(lines(named), ['uid=1000 gid=1000 groups=1000']);
  assert.equal(lines(withGroup), ['uid=1000 gid=0 groups=0']);
  const st = fs.statSync(path.join(shared, 'by1000'));
  assert.is(st.uid, u.subuid[0].start + 999, 'container uid 1000 is subordinate id start+999');
  assert.is(st.gid, u.subgid[0].start + 999);
  const bad = await bed.run(['run', '--rm', '-u', 'nosuchuser', PROBE, '/probe', 'id']);
  assertOneLineError(bad, /^Error: unable to find user nosuchuser: no matching entries in passwd file$/, 125);
});

test("--userns=keep-id: the user's own uid and gid inside, and files in a bind mount are the user's", async () => {
  const u = userInfo(TEST_USER);
  const dir = hostDir();
  const out = await sh('/probe id; /probe write /d/mine; cat /proc/self/uid_map', ['--userns=keep-id', '-v', `${dir}:/d`]);
  const [id, ok, ...map] = lines(out);
  assert.is(id, `uid=${u.uid} gid=${u.gid} groups=${u.gid}`);
  assert.is(ok, 'ok');
  assert.ok(
    map.map((l) => l.trim().split(/\s+/).join(' ')).includes(`${u.uid} ${u.uid} 1`),
    `the uid maps to itself: ${map.join(' | ')}`,
  );
  const st = fs.statSync(path.join(dir, 'mine'));
  assert.is(st.uid, u.uid);
  assert.is(st.gid, u.gid);
});

// ---------------------------------------------------------------------------------------------
// Other ways to run

test('single-uid fallback (no subordinate ids): root inside is the user, one line in each map', async () => {
  const u = userInfo(NOSUB_USER);
  const nb = await openBed(NOSUB_USER, [PROBE]);
  try {
    const dir = fs.mkdtempSync('/tmp/tspod-ctr-nosub-');
    made.push(dir);
    fs.chownSync(dir, u.uid, u.gid);
    const r = await nb.ok(['run', '--rm', '-v', `${dir}:/d`, PROBE, 'sh', '-c', '/probe id; cat /proc/self/uid_map /proc/self/gid_map; /probe write /d/f; /probe write /tmp/t']);
    assert.equal(lines(r.stdout).map((l) => l.trim().split(/\s+/).join(' ')), ['uid=0 gid=0 groups=0', `0 ${u.uid} 1`, `0 ${u.gid} 1`, 'ok', 'ok']);
    assert.is(fs.statSync(path.join(dir, 'f')).uid, u.uid);
    const other = await nb.run(['run', '--rm', '-u', '1000', PROBE, '/probe', 'id']);
    assertOneLineError(other, /^Error: (user|group) id 1000 is not mapped in the container's user namespace/, 125);
    assert.equal(leftovers(nb.store), NOTHING_LEFT);
  } finally {
    await closeBed(nb);
  }
});

test('fuse-overlayfs (TSPOD_OVERLAY=fuse): the root is a fuse-overlayfs mount that works for root and other users', async () => {
  const env = { TSPOD_OVERLAY: 'fuse' };
  const [root, other] = await Promise.all([
    bed.ok(['run', '--rm', PROBE, 'sh', '-c', '/probe fstype /; grep " / / " /proc/self/mountinfo | sed "s/.* - //" | cut -d" " -f1; /probe write /new; /probe read /new'], { env }),
    bed.ok(['run', '--rm', '-u', '1000', PROBE, '/probe', 'id'], { env }),
  ]);
  assert.equal(lines(root.stdout), ['fuse', 'fuse.fuse-overlayfs', 'ok', 'probe']);
  assert.equal(lines(other.stdout), ['uid=1000 gid=1000 groups=1000']);
  assert.equal(leftovers(bed.store), NOTHING_LEFT);
  assert.equal(processesMentioning(bed.store), [], 'no fuse-overlayfs left behind');
});

// ---------------------------------------------------------------------------------------------
// A last look

test('after all of the above: nothing of the removed containers is left (sockets included)', async () => {
  const ids = lines((await bed.ok(['ps', '-a', '-q', '--no-trunc'])).stdout);
  assert.equal(ids, []);
  assert.equal(leftovers(bed.store), NOTHING_LEFT);
  assert.equal(attachSockets(TEST_USER, ids), []);
});

test.run();
