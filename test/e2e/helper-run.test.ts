// `tspod-helper run` driven as the unprivileged test users, with the configuration tspod sends
// (core/container/helper-config): namespaces, the overlay root, /proc /dev /sys, mounts, users,
// capabilities, exit codes, the terminal, signals, --init, networking, and detached containers
// with their monitor. See userns-helper/PROTOCOL.md for the contract under test.

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_CAPS, encodeRunConfig, type RunConfig } from '../../core/container/helper-config';
import { describeDiff, diffSnapshots, isEmptyDiff, NOSUB_USER, snapshotTree, TEST_USER, userInfo } from '../lib';
import { HELPER, mappingFor, userTempDir } from '../lib/helper-util';
import {
  alive,
  AttachClient,
  busyboxLayer,
  parseK8sLog,
  runConfig,
  runHelper,
  runOnTerminal,
  spawnRun,
  type HelperResult,
} from '../lib/run-util';

const made: string[] = [];
const monitors: number[] = [];
const times: [string, number, string][] = [];
const layers = new Map<string, string>();

function layerFor(user: string): string {
  let l = layers.get(user);
  if (!l) {
    l = busyboxLayer(user);
    made.push(l);
    layers.set(user, l);
  }
  return l;
}

function config(args: string[], over: Partial<RunConfig> = {}, user = TEST_USER): RunConfig {
  const c = runConfig(user, layerFor(user), args, over);
  made.push(path.dirname(c.upper));
  return c;
}

function sh(script: string, over: Partial<RunConfig> = {}, user = TEST_USER): RunConfig {
  return config(['sh', '-c', script], over, user);
}

/** A test whose duration is reported at the end. */
function timed(name: string, fn: () => Promise<void>): void {
  test(name, async () => {
    const t0 = Date.now();
    await fn();
    times.push([name, Date.now() - t0, 'ms']);
  });
}

function ok(r: HelperResult): void {
  assert.is(r.code, 0, `helper exit ${r.code}: stderr ${r.stderr.trim()} status ${JSON.stringify(r.status)}`);
}

test.after(() => {
  for (const pid of monitors) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
  const width = Math.max(...times.map(([n]) => n.length));
  console.log('\nhelper-run timings:');
  for (const [n, v, unit] of times) console.log(`  ${n.padEnd(width)}  ${v} ${unit}`);
});

// ---------------------------------------------------------------------------------------------
// namespaces and identity

timed('namespaces: pid 1, no host processes, hostname, id maps', async () => {
  const r = await runHelper(
    TEST_USER,
    sh('echo pid=$$; ls /proc | grep -c "^[0-9]"; ls -d /proc/' + process.pid + ' 2>&1; hostname; cat /proc/self/uid_map /proc/self/gid_map'),
  );
  ok(r);
  const lines = r.stdout.trim().split('\n');
  assert.is(lines[0], 'pid=1');
  assert.ok(Number(lines[1]) <= 3, `processes visible in the container's /proc: ${lines[1]}`);
  assert.match(lines[2], /No such file or directory/, 'the test runner is visible inside');
  assert.is(lines[3], 'testctr');
  const m = mappingFor(TEST_USER);
  const want = [...m.uids, ...m.gids].map((x) => `${x.container} ${x.host} ${x.size}`);
  assert.equal(lines.slice(4).map((l) => l.trim().split(/\s+/).join(' ')), want);
  assert.equal(r.status[0], { pid: r.status[0].pid });
  assert.ok(Number(r.status[0].pid) > 1);
  assert.equal(r.status[1], { exit: 0 });
});

function capMask(names: string[]): string {
  const bits: Record<string, number> = {
    CHOWN: 0, DAC_OVERRIDE: 1, FOWNER: 3, FSETID: 4, KILL: 5, SETGID: 6, SETUID: 7, SETPCAP: 8,
    NET_BIND_SERVICE: 10, NET_RAW: 13, SYS_CHROOT: 18, SYS_ADMIN: 21, SETFCAP: 31,
  };
  let m = 0n;
  for (const n of names) m |= 1n << BigInt(bits[n]);
  return m.toString(16).padStart(16, '0');
}

timed('capabilities: the requested set for root, bounding only for others; no_new_privs', async () => {
  const caps = [...DEFAULT_CAPS, 'NET_RAW'];
  const r = await runHelper(
    TEST_USER,
    sh('grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)" /proc/self/status; su user -c "grep -E ^Cap /proc/self/status"', {
      caps,
      noNewPrivs: true,
    }),
  );
  ok(r);
  const [root, user] = [r.stdout.split('\n').slice(0, 6).join('\n'), r.stdout.split('\n').slice(6).join('\n')];
  const want = capMask(caps);
  assert.match(root, `CapEff:\t${want}`);
  assert.match(root, `CapPrm:\t${want}`);
  assert.match(root, `CapBnd:\t${want}`);
  assert.match(root, 'CapInh:\t0000000000000000');
  assert.match(root, 'CapAmb:\t0000000000000000');
  assert.match(root, 'NoNewPrivs:\t1');
  assert.match(user, 'CapEff:\t0000000000000000');
  assert.match(user, `CapBnd:\t${want}`);

  const r2 = await runHelper(TEST_USER, sh('grep -E "^(CapEff|NoNewPrivs)" /proc/self/status', { caps: ['CHOWN'], noNewPrivs: false }));
  ok(r2);
  assert.match(r2.stdout, `CapEff:\t${capMask(['CHOWN'])}`);
  assert.match(r2.stdout, 'NoNewPrivs:\t0');
});

timed('masked paths are empty, read-only paths refuse writes', async () => {
  const r = await runHelper(
    TEST_USER,
    sh(
      'for p in /proc/keys /proc/timer_list; do [ -e $p ] && echo "$p $(cat $p | wc -c)"; done; ' +
        'echo "firmware $(ls -A /sys/firmware | wc -l)"; ' +
        'echo 1 > /proc/sys/kernel/ns_last_pid; echo sys=$?; echo h > /proc/sysrq-trigger; echo sysrq=$?',
    ),
  );
  ok(r);
  for (const line of r.stdout.trim().split('\n').filter((l) => l.startsWith('/proc/'))) assert.match(line, / 0$/, line);
  assert.match(r.stdout, 'firmware 0');
  assert.match(r.stdout, 'sys=1');
  assert.match(r.stdout, 'sysrq=1');
  assert.match(r.stderr, 'Read-only file system');
});

timed('root file system: kernel overlay; the layer is never written, changes go to upper', async () => {
  const layer = layerFor(TEST_USER);
  const before = snapshotTree(layer);
  const c = sh('grep " / " /proc/self/mountinfo; echo new > /bin/newfile; echo changed >> /etc/passwd; rm /bin/cat; cat2=$(ls /bin/cat 2>&1); echo "$cat2"');
  const r = await runHelper(TEST_USER, c);
  ok(r);
  assert.match(r.stdout.split('\n')[0], / - overlay /);
  assert.match(r.stdout.split('\n')[0], /userxattr/);
  const d = diffSnapshots(before, snapshotTree(layer));
  assert.ok(isEmptyDiff(d), `the layer changed: ${describeDiff(d)}`);
  assert.is(fs.readFileSync(path.join(c.upper, 'bin/newfile'), 'utf8'), 'new\n');
  assert.match(fs.readFileSync(path.join(c.upper, 'etc/passwd'), 'utf8'), /changed\n$/);
  // The removal is a whiteout in upper: a 0/0 character device.
  const wh = fs.lstatSync(path.join(c.upper, 'bin/cat'));
  assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'no whiteout for /bin/cat');
});

timed('root file system: 60 layers, longer than a page of mount options, by fsopen and by mount(2)', async () => {
  const u = userInfo(TEST_USER);
  // Every layer under one long common parent: the mount(2) path names them relative to it.
  const top = userTempDir(TEST_USER, 'layers');
  made.push(top);
  const parent = path.join(top, 'p'.repeat(120));
  fs.mkdirSync(parent);
  fs.chownSync(parent, u.uid, u.gid);
  const base = path.join(parent, 'base');
  execFileSync('cp', ['-a', layerFor(TEST_USER), base]);
  const lower: string[] = [];
  for (let i = 59; i >= 1; i--) {
    const d = path.join(parent, `layer-${String(i).padStart(2, '0')}-${'x'.repeat(40)}`);
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, `from-${i}`), `${i}\n`);
    fs.writeFileSync(path.join(d, 'top'), `${i}\n`);
    for (const p of [d, path.join(d, `from-${i}`), path.join(d, 'top')]) fs.chownSync(p, u.uid, u.gid);
    lower.push(d);
  }
  lower.push(base);
  assert.ok(lower.join(':').length > 4096);
  for (const env of [{}, { TSPOD_HELPER_NO_FSOPEN: '1' }] as Record<string, string>[]) {
    const r = await runHelper(TEST_USER, sh('cat /top /from-1 /from-59; ls / | grep -c ^from-', { lower }), {
      env: { ...env, TSPOD_HELPER_DEBUG: '1' },
    });
    ok(r);
    assert.is(r.stdout, '59\n1\n59\n59\n', JSON.stringify(env));
    assert.match(r.stderr, env.TSPOD_HELPER_NO_FSOPEN ? '(mount(2))' : '(fsopen, lowerdir+)');
  }
});

timed('mounts: rw bind owned by the user on the host, ro bind refuses, tmpfs, file bind, read-only root', async () => {
  const u = userInfo(TEST_USER);
  const vol = userTempDir(TEST_USER, 'vol');
  made.push(vol);
  const hosts = path.join(vol, 'hosts');
  fs.writeFileSync(hosts, '127.0.0.1 localhost testctr\n');
  const c = sh(
    'echo data > /data/new && echo rw-ok; echo x > /ro/new; echo ro=$?; echo t > /scratch/t && echo tmpfs-ok; ' +
      'cat /etc/hosts; touch /rootfile; echo root=$?; grep " /scratch " /proc/self/mountinfo',
    {
      readonly: true,
      mounts: [
        { type: 'bind', source: vol, destination: '/data', options: [] },
        { type: 'bind', source: vol, destination: '/ro', options: ['ro'] },
        { type: 'tmpfs', source: '', destination: '/scratch', options: ['size=1m', 'noexec'] },
        { type: 'bind', source: hosts, destination: '/etc/hosts', options: ['ro'] },
      ],
    },
  );
  const r = await runHelper(TEST_USER, c);
  ok(r);
  assert.match(r.stdout, 'rw-ok');
  assert.match(r.stdout, 'ro=1');
  assert.match(r.stdout, 'tmpfs-ok');
  assert.match(r.stdout, '127.0.0.1 localhost testctr');
  assert.match(r.stdout, 'root=1');
  assert.match(r.stdout, /\/scratch rw,nosuid,nodev,noexec/);
  const st = fs.statSync(path.join(vol, 'new'));
  assert.is(st.uid, u.uid);
  assert.is(st.gid, u.gid);
  assert.is(fs.existsSync(path.join(c.upper, 'rootfile')), false);
});

timed('mounts: symlinks in the image cannot send a mount target out of the root', async () => {
  const u = userInfo(TEST_USER);
  const layer = userTempDir(TEST_USER, 'evil');
  made.push(layer);
  execFileSync('cp', ['-a', `${layerFor(TEST_USER)}/.`, layer]);
  const outside = userTempDir(TEST_USER, 'outside');
  made.push(outside);
  const links: [string, string][] = [
    ['etc/hosts', path.join(outside, 'abs')],
    ['etc/resolv.conf', `../../../../../../..${outside}/rel`],
    ['mnt', outside],
  ];
  for (const [rel, target] of links) {
    fs.rmSync(path.join(layer, rel), { force: true });
    fs.symlinkSync(target, path.join(layer, rel));
    fs.lchownSync(path.join(layer, rel), u.uid, u.gid);
  }
  const file = path.join(userTempDir(TEST_USER, 'src'), 'f');
  made.push(path.dirname(file));
  fs.writeFileSync(file, 'bound\n');
  const mounts = ['/etc/hosts', '/etc/resolv.conf', '/mnt/sub/f'].map((destination) => ({
    type: 'bind' as const,
    source: file,
    destination,
    options: ['ro'],
  }));
  // Both resolvers: openat2's RESOLVE_IN_ROOT, and the component walk of older kernels.
  for (const env of [{}, { TSPOD_HELPER_NO_OPENAT2: '1' }] as Record<string, string>[]) {
    const c = config(['cat', '/etc/hosts', '/etc/resolv.conf', '/mnt/sub/f'], { lower: [layer], mounts });
    const r = await runHelper(TEST_USER, c, { env });
    ok(r);
    assert.is(r.stdout, 'bound\nbound\nbound\n', JSON.stringify(env));
    assert.equal(fs.readdirSync(outside), [], 'a mount target was created outside the root');
    // They were created inside the container instead (its upper layer).
    assert.ok(fs.existsSync(path.join(c.upper, outside, 'abs')));
  }
  // A /proc that leads back to the root would have proc mounted over the whole container.
  fs.symlinkSync('../..', path.join(layer, 'proc'));
  fs.lchownSync(path.join(layer, 'proc'), u.uid, u.gid);
  const r = await runHelper(TEST_USER, config(['true'], { lower: [layer] }));
  assert.is(r.code, 125);
  assert.equal(r.status, [{ error: '/proc in the container resolves to its root directory', exitCode: 125 }]);
});

timed('user: names from the container files, groups, HOME, working directory created', async () => {
  const r = await runHelper(TEST_USER, sh('id; echo home=$HOME; pwd', { user: 'user', groups: ['42'], cwd: '/work/dir' }));
  ok(r);
  const id = /^uid=(\S+) gid=(\S+) groups=(\S+)$/m.exec(r.stdout);
  assert.ok(id, r.stdout);
  assert.equal([id![1], id![2], id![3].split(',').sort()], ['1000(user)', '1000(user)', ['1000(user)', '1234(extra)', '42']]);
  assert.match(r.stdout, 'home=/home/user');
  assert.match(r.stdout, '/work/dir');
  const r2 = await runHelper(TEST_USER, config(['id'], { user: '1000:extra', env: ['PATH=/bin', 'HOME=/custom'] }));
  ok(r2);
  assert.match(r2.stdout, 'uid=1000(user) gid=1234(extra)');
  const r3 = await runHelper(TEST_USER, config(['id'], { user: 'nobody' }));
  assert.is(r3.code, 125);
  assert.equal(r3.status, [{ error: 'unable to find user nobody: no matching entries in passwd file', exitCode: 125 }]);
});

// ---------------------------------------------------------------------------------------------
// exit codes and errors

timed('exit codes: 0, 1, 42, and a signal as 128+N', async () => {
  for (const code of [0, 1, 42]) {
    const r = await runHelper(TEST_USER, sh(`exit ${code}`));
    assert.is(r.code, code);
    assert.equal(r.status[1], { exit: code });
  }
  const run = spawnRun(TEST_USER, sh('echo ready; sleep 10'));
  assert.ok(await run.waitFor('ready', 10_000), run.stderr());
  const pid = await run.containerPid(10_000);
  assert.ok(pid, 'no pid line');
  process.kill(pid!, 'SIGKILL');
  const r = await run.exited;
  assert.is(r.code, 137);
  assert.equal(r.status[1], { signal: 9 });
  // pid 1 without a handler ignores a signal from inside (the kernel protects a namespace's init).
  const r2 = await runHelper(TEST_USER, sh('kill -USR1 $$; echo survived'));
  assert.is(r2.code, 0);
  assert.match(r2.stdout, 'survived');
});

timed('126 and 127: one message, on fd 4 or else on stderr', async () => {
  const cases: [string[], number, string][] = [
    [['/nonexistent'], 127, 'executable file `/nonexistent` not found in $PATH: No such file or directory'],
    [['nosuchcommand'], 127, 'executable file `nosuchcommand` not found in $PATH: No such file or directory'],
    [['/etc'], 126, 'open executable `/etc`: Permission denied'],
    [['/etc/passwd'], 126, 'open executable `/etc/passwd`: Permission denied'],
  ];
  for (const [args, code, msg] of cases) {
    const r = await runHelper(TEST_USER, config(args));
    assert.is(r.code, code, args.join(' '));
    assert.equal(r.status, [{ error: msg, exitCode: code }]);
    assert.is(r.stderr, '', 'the message was printed twice');
    const r2 = await runHelper(TEST_USER, config(args), { noStatusFd: true });
    assert.is(r2.code, code);
    assert.is(r2.stderr, `tspod-helper: ${msg}\n`);
  }
  // With --init the process is the reaper's child: the same answers.
  const r = await runHelper(TEST_USER, config(['/nonexistent'], { init: true }));
  assert.is(r.code, 127);
  assert.equal(r.status, [{ error: cases[0][2], exitCode: 127 }]);
});

timed('configuration errors: one line, exit 125, nothing started', async () => {
  const base = config(['true']);
  const good = encodeRunConfig(base);
  const kv = (...pairs: string[]): Buffer => Buffer.from(pairs.map((p) => p + '\0').join(''));
  const table: [string, Buffer, RegExp][] = [
    ['empty', Buffer.alloc(0), /configuration: empty/],
    ['no final NUL', Buffer.concat([good, Buffer.from('arg')]), /does not end with a NUL/],
    ['key without value', Buffer.concat([good, kv('arg').subarray(0, 4)]), /has no value/],
    ['unknown key', Buffer.concat([good, kv('bogus', '1')]), /unknown key "bogus"/],
    ['twice', Buffer.concat([good, kv('hostname', 'x')]), /"hostname" given twice/],
    ['bad map', Buffer.concat([good, kv('uidmap', '1:-5:3')]), /uidmap 1:-5:3: expected CONTAINER:HOST:SIZE/],
    ['relative lower', Buffer.concat([kv('lower', 'rel/dir'), good]), /lower must be an absolute path/],
    ['mount on /', Buffer.concat([good, kv('mount', 'bind\x1f/tmp\x1f/..\x1f')]), /a mount on \/ is not allowed/],
    ['bad mount option', Buffer.concat([good, kv('mount', 'bind\x1f/tmp\x1f/x\x1fsuid,bogus')]), /unknown option "bogus"/],
    ['bad tmpfs mode', Buffer.concat([good, kv('mount', 'tmpfs\x1f\x1f/x\x1fmode=999')]), /mode must be octal/],
    ['unknown cap', Buffer.concat([good, kv('cap', 'FLY')]), /unknown capability "FLY"/],
    ['bad bool', Buffer.concat([good, kv('tty', 'yes')]), /tty must be 0 or 1/],
    ['pasta without argv', encodeRunConfig({ ...base, net: 'pasta', netArgs: [] }), /needs netarg/],
    ['detach without files', Buffer.concat([good, kv('detach', '1')]), /detach needs log, exitfile and pidfile/],
  ];
  const u = userInfo(TEST_USER);
  for (const [name, bytes, want] of table) {
    const file = path.join(path.dirname(base.upper), `cfg-${name.replace(/\W/g, '_')}`);
    fs.writeFileSync(file, bytes);
    const r = spawnSync('/usr/bin/setpriv', ['--reuid', String(u.uid), '--regid', String(u.gid), '--init-groups', '--', '/bin/sh', '-c', 'exec "$0" run 3<"$1"', HELPER, file], { encoding: 'utf8' });
    assert.is(r.status, 125, name);
    assert.match(r.stderr, want, name);
    assert.is(r.stderr.trim().split('\n').length, 1, `${name}: ${r.stderr}`);
  }
  assert.equal(fs.readdirSync(base.upper), [], 'a container was started');
});

// ---------------------------------------------------------------------------------------------
// terminal and signals

timed('-t: a terminal of the container devpts, its size and resizes, Ctrl-C', async () => {
  const c = sh('tty; stty size; echo ready; read x; stty size; sleep 10; echo not-interrupted', { tty: true, stdin: true, env: ['PATH=/bin', 'TERM=xterm'] });
  const r = await runOnTerminal(
    TEST_USER,
    c,
    [{ expect: 'ready', resize: [33, 101] }, { send: 'go\r' }, { expect: '33 101', send: '\x03' }],
    [24, 80],
  );
  assert.not.ok(r.timedOut, r.output);
  assert.is(r.stuckAt, null, r.output);
  const lines = r.output.split('\r\n');
  assert.is(lines[0], '/dev/pts/0');
  assert.is(lines[1], '24 80');
  assert.match(r.output, '33 101');
  assert.not.match(r.output, 'not-interrupted');
  assert.is(r.code, 130, r.output);
});

timed('signals: SIGTERM to the helper reaches a process that traps it', async () => {
  const run = spawnRun(TEST_USER, sh('trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.05; done'));
  assert.ok(await run.waitFor('ready', 10_000), run.stderr());
  process.kill(run.pid, 'SIGTERM');
  const r = await run.exited;
  assert.is(r.code, 7, r.stderr);
  assert.match(r.stdout, 'got-term');
  for (const sig of ['SIGHUP', 'SIGUSR1'] as const) {
    const run2 = spawnRun(TEST_USER, sh(`trap "echo got-${sig}; exit 3" ${sig.slice(3)}; echo ready; while :; do sleep 0.05; done`));
    assert.ok(await run2.waitFor('ready', 10_000));
    process.kill(run2.pid, sig);
    const r2 = await run2.exited;
    assert.is(r2.code, 3);
    assert.match(r2.stdout, `got-${sig}`);
  }
});

timed('--init: tspod-init is pid 1, reaps orphans, passes signals on, returns the status', async () => {
  const run = spawnRun(
    TEST_USER,
    sh('trap "echo got-term; exit 9" TERM; (sleep 0.1 &); sleep 0.4; ps -o pid,stat,comm; echo ready; while :; do sleep 0.05; done', { init: true }),
  );
  assert.ok(await run.waitFor('ready', 10_000), run.stderr());
  process.kill(run.pid, 'SIGTERM');
  const r = await run.exited;
  assert.is(r.code, 9, r.stderr);
  const ps = r.stdout.split('\n').filter((l) => /^\s*\d+ /.test(l));
  assert.match(ps[0], /^\s*1 \S+\s+tspod-init$/);
  assert.ok(!ps.some((l) => / Z /.test(l)), `a zombie was left: ${ps.join(' | ')}`);
  assert.match(r.stdout, 'got-term');
});

// ---------------------------------------------------------------------------------------------
// networking

async function pongServer(): Promise<{ port: number; close(): void; seen: () => number }> {
  let seen = 0;
  const srv = net.createServer((s) => {
    seen++;
    s.end('pong\n');
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return { port: (srv.address() as net.AddressInfo).port, close: () => srv.close(), seen: () => seen };
}

timed('net=none: only lo, and it is up', async () => {
  const r = await runHelper(TEST_USER, config(['ip', '-o', 'link']));
  ok(r);
  const links = r.stdout.trim().split('\n');
  assert.is(links.length, 1, r.stdout);
  assert.match(links[0], /^1: lo: <LOOPBACK,UP,LOWER_UP>/);
});

timed('net=pasta: the container reaches a server on the host loopback (-T PORT)', async () => {
  const srv = await pongServer();
  try {
    // -T PORT forwards the container's 127.0.0.1:PORT to the host's. (The gateway address that
    // pasta maps to the host loopback goes through its tap path, which this pasta version
    // serves unreliably for short connections: PROTOCOL.md, Networking.)
    const c = sh(`ip -o addr | grep -c "inet .* scope global"; echo ping | nc 127.0.0.1 ${srv.port}`, {
      net: 'pasta',
      netArgs: ['pasta', '--config-net', '-q', '-t', 'none', '-u', 'none', '-T', String(srv.port), '-U', 'none', '--no-map-gw', '{pid}'],
    });
    const r = await runHelper(TEST_USER, c);
    ok(r);
    assert.match(r.stdout, /^[1-9]\d*\n/, 'no global address configured');
    assert.match(r.stdout, 'pong');
    assert.is(srv.seen(), 1);
    // The pasta daemon went with the container (it was sent SIGKILL; its exit takes a moment).
    const mine = (): boolean =>
      execFileSync('ps', ['-u', TEST_USER, '-o', 'args='], { encoding: 'utf8' })
        .split('\n')
        .some((a) => a.startsWith('pasta ') && a.endsWith(` ${String(r.status[0].pid)}`));
    for (let t = 0; t < 100 && mine(); t++) await new Promise((res) => setTimeout(res, 20));
    assert.not.ok(mine(), 'pasta outlived its container');
  } finally {
    srv.close();
  }
});

timed('net=slirp4netns: host loopback at 10.0.2.2 only without --disable-host-loopback', async () => {
  const srv = await pongServer();
  try {
    const argv = (extra: string[]): string[] => ['slirp4netns', '--configure', '--mtu=65520', ...extra, '--ready-fd=3', '--exit-fd=4', '{pid}', 'tap0'];
    const script = `ip -o addr show tap0 | grep -o "inet [0-9.]*"; echo ping | nc -w 3 10.0.2.2 ${srv.port} || echo refused`;
    const r = await runHelper(TEST_USER, sh(script, { net: 'slirp4netns', netArgs: argv([]) }));
    ok(r);
    assert.match(r.stdout, 'inet 10.0.2.100');
    assert.match(r.stdout, 'pong');
    const r2 = await runHelper(TEST_USER, sh(script, { net: 'slirp4netns', netArgs: argv(['--disable-host-loopback']) }));
    ok(r2);
    assert.match(r2.stdout, 'refused');
    assert.is(srv.seen(), 1);
  } finally {
    srv.close();
  }
});

timed('net: a network program that fails is reported with its own words', async () => {
  const r = await runHelper(TEST_USER, config(['true'], { net: 'pasta', netArgs: ['pasta', '--no-such-option', '{pid}'] }));
  assert.is(r.code, 125);
  assert.match(String(r.status[0].error), /^pasta failed \(exit status 1\): .*no-such-option/);
});

// ---------------------------------------------------------------------------------------------
// the single-uid fallback and fuse-overlayfs

timed('single-uid user: only 0 is mapped, files are the user\'s on the host', async () => {
  const u = userInfo(NOSUB_USER);
  const c = sh('id; cat /proc/self/uid_map; echo x > /newfile; cat /proc/self/setgroups', {}, NOSUB_USER);
  const r = await runHelper(NOSUB_USER, c);
  ok(r);
  assert.match(r.stdout, 'uid=0(root) gid=0(root)');
  assert.match(r.stdout, new RegExp(`^\\s*0\\s+${u.uid}\\s+1$`, 'm'));
  assert.match(r.stdout, 'deny');
  assert.is(fs.statSync(path.join(c.upper, 'newfile')).uid, u.uid);
  const r2 = await runHelper(NOSUB_USER, config(['id'], { user: '1000' }, NOSUB_USER));
  assert.is(r2.code, 125);
  // The group changes first (after the user it could not): its id is the one refused.
  assert.match(String(r2.status[0].error), /^group id 1000 is not mapped in the container's user namespace \(only 0 is/);
});

timed('overlay=fuse: fuse-overlayfs serves the root, for root and other users', async () => {
  const layer = layerFor(TEST_USER);
  const before = snapshotTree(layer);
  const c = sh('grep " / " /proc/self/mountinfo; echo hi > /f; su user -c "cat /etc/passwd >/dev/null && echo user-reads"', { overlay: 'fuse' });
  const r = await runHelper(TEST_USER, c);
  ok(r);
  assert.match(r.stdout, / - fuse\.fuse-overlayfs /);
  assert.match(r.stdout, 'user-reads');
  assert.is(fs.readFileSync(path.join(c.upper, 'f'), 'utf8'), 'hi\n');
  assert.ok(isEmptyDiff(diffSnapshots(before, snapshotTree(layer))));
});

// ---------------------------------------------------------------------------------------------
// detached

interface StateFiles {
  log: string;
  exit: string;
  pid: string;
  sock: string;
}

/** A detached container's configuration, with its state files beside its upper directory. */
function detachConfig(script: string, over: Partial<RunConfig> = {}): { c: RunConfig; files: StateFiles } {
  const c = sh(script, over);
  const state = path.dirname(c.upper);
  const files = { log: path.join(state, 'ctr.log'), exit: path.join(state, 'exit.json'), pid: path.join(state, 'pid'), sock: path.join(state, 'attach.sock') };
  Object.assign(c, { detach: true, log: files.log, exitFile: files.exit, pidFile: files.pid, attach: files.sock });
  return { c, files };
}

async function waitFile(file: string, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fs.existsSync(file)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

function vmHWM(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

timed('detached: the monitor outlives the helper, logs 100,000 lines in order, writes the exit file', async () => {
  const { c, files } = detachConfig('echo to-stderr >&2; seq 1 100000; printf no-newline; echo; echo burst-done; sleep 0.3; exit 3');
  const run = spawnRun(TEST_USER, c);
  const r = await run.exited;
  ok(r);
  assert.is(r.status.length, 1);
  const pid = Number(r.status[0].pid);
  const [ctrPid, monPid] = fs.readFileSync(files.pid, 'utf8').trim().split('\n').map(Number);
  monitors.push(monPid);
  assert.is(ctrPid, pid);
  assert.ok(alive(monPid), 'the monitor is gone');
  assert.ok(r.ms < 2000, `the helper waited for the container (${r.ms} ms)`);
  const ppid = Number(/PPid:\s+(\d+)/.exec(fs.readFileSync(`/proc/${monPid}/status`, 'utf8'))![1]);
  assert.is.not(ppid, run.pid);

  // Peak memory while the burst is logged.
  const end = Date.now() + 20_000;
  while (Date.now() < end && !fs.readFileSync(files.log, 'utf8').includes('burst-done')) await new Promise((res) => setTimeout(res, 20));
  const hwm = alive(monPid) ? vmHWM(monPid) : NaN;
  times.push(['  (monitor peak RSS, VmHWM, after a 100,000-line burst)', hwm, 'kB']);
  assert.ok(hwm < 4096, `monitor peak RSS ${hwm} kB`);

  assert.ok(await waitFile(files.exit, 10_000), 'no exit file');
  const exit = JSON.parse(fs.readFileSync(files.exit, 'utf8')) as Record<string, unknown>;
  assert.is(exit.exitCode, 3);
  assert.is(exit.signal, null);
  const rfc = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;
  assert.match(String(exit.startedAt), rfc);
  assert.match(String(exit.finishedAt), rfc);
  assert.ok(String(exit.finishedAt) > String(exit.startedAt));

  const text = fs.readFileSync(files.log, 'utf8');
  for (const rec of text.split('\n').filter(Boolean)) assert.match(rec, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) [FP] /);
  const lines = parseK8sLog(text);
  const out = lines.filter((l) => l.stream === 'stdout').map((l) => l.line);
  assert.is(out.length, 100_002);
  for (let i = 0; i < 100_000; i++) if (out[i] !== String(i + 1)) assert.unreachable(`line ${i + 1} is ${JSON.stringify(out[i])}`);
  assert.is(out[100_000], 'no-newline');
  assert.is(out[100_001], 'burst-done');
  assert.equal(lines.filter((l) => l.stream === 'stderr').map((l) => l.line), ['to-stderr']);
  for (let t = 0; t < 100 && alive(monPid); t++) await new Promise((res) => setTimeout(res, 20));
  assert.not.ok(alive(monPid), 'the monitor stayed after the container ended');
  assert.not.ok(fs.existsSync(files.sock), 'the attach socket was left behind');
});

timed('detached: the attach socket streams live output, feeds stdin, passes kill and resize', async () => {
  const { c, files } = detachConfig(
    'trap "echo term; exit 9" TERM; echo started; sleep 0.2; while read l; do echo "got $l"; echo "err $l" >&2; done; ' +
      'echo stdin-closed; while :; do sleep 0.05; done',
    { stdin: true },
  );
  const r = await runHelper(TEST_USER, c);
  ok(r);
  monitors.push(Number(fs.readFileSync(files.pid, 'utf8').trim().split('\n')[1]));
  // Connect once "started" is in the log: it must not be sent again.
  const end = Date.now() + 5000;
  while (Date.now() < end && !fs.readFileSync(files.log, 'utf8').includes('started')) await new Promise((res) => setTimeout(res, 10));
  const cl = await AttachClient.connect(files.sock);
  cl.send(0, 'one\ntwo\n');
  assert.ok(await cl.until((x) => x.text(1).includes('got two') && x.text(2).includes('err two'), 5000), cl.text(1));
  assert.not.match(cl.text(1), 'started', 'output from before the client connected was replayed');
  cl.send(1, 'resize 10 20');
  cl.send(1, 'eof');
  assert.ok(await cl.until((x) => x.text(1).includes('stdin-closed'), 5000));
  cl.send(1, 'kill 15');
  assert.ok(await cl.until((x) => x.frames.some((f) => f.type === 3), 5000), 'no exit frame');
  const replies = cl.frames.filter((f) => f.type === 4).map((f) => f.data.toString());
  assert.equal(replies, ['error: the container has no terminal', 'ok', 'ok']);
  assert.match(cl.text(1), 'term');
  const exit = JSON.parse(cl.frames.find((f) => f.type === 3)!.data.toString()) as Record<string, unknown>;
  assert.is(exit.exitCode, 9);
  await cl.closed;
  assert.equal(JSON.parse(fs.readFileSync(files.exit, 'utf8')), exit);
  // The log has everything, from before the client too; each stream in its order.
  const log = parseK8sLog(fs.readFileSync(files.log, 'utf8'));
  const of = (stream: string): string[] => log.filter((l) => l.stream === stream).map((l) => l.line);
  assert.equal(of('stdout'), ['started', 'got one', 'got two', 'stdin-closed', 'term']);
  assert.equal(of('stderr'), ['err one', 'err two']);
});

timed('detached with a terminal: the monitor logs the pty, resizes it, signals through the socket', async () => {
  const { c, files } = detachConfig('stty size; echo ready; read l; stty size; echo "line $l"; sleep 30', { tty: true, stdin: true });
  const r = await runHelper(TEST_USER, c);
  ok(r);
  monitors.push(Number(fs.readFileSync(files.pid, 'utf8').trim().split('\n')[1]));
  const cl = await AttachClient.connect(files.sock);
  const end = Date.now() + 5000;
  while (Date.now() < end && !fs.readFileSync(files.log, 'utf8').includes('ready')) await new Promise((res) => setTimeout(res, 20));
  cl.send(1, 'resize 40 120');
  cl.send(0, 'abc\r');
  assert.ok(await cl.until((x) => x.text(1).includes('line abc'), 5000), cl.text(1));
  cl.send(1, 'kill 9');
  assert.ok(await cl.until((x) => x.frames.some((f) => f.type === 3), 5000));
  const exit = JSON.parse(cl.frames.find((f) => f.type === 3)!.data.toString()) as Record<string, unknown>;
  // pid 1 can be killed by SIGKILL from outside its namespace; the monitor is outside.
  assert.equal([exit.exitCode, exit.signal], [137, 9]);
  assert.match(cl.text(1), '40 120');
  assert.not.ok(cl.frames.some((f) => f.type === 2), 'a terminal has no separate stderr');
  const log = parseK8sLog(fs.readFileSync(files.log, 'utf8'));
  assert.ok(log.every((l) => l.stream === 'stdout'));
  assert.ok(log.some((l) => l.line === 'line abc\r'), JSON.stringify(log));
});

timed('detached: a command that cannot start fails the helper, no monitor stays', async () => {
  const { c, files } = detachConfig('true');
  c.args = ['/nonexistent'];
  const r = await runHelper(TEST_USER, c);
  assert.is(r.code, 127);
  assert.equal(r.status, [{ error: 'executable file `/nonexistent` not found in $PATH: No such file or directory', exitCode: 127 }]);
  assert.not.ok(fs.existsSync(files.pid));
  assert.not.ok(fs.existsSync(files.sock));
});

test.run();
