// `tspod exec` as the test users: a process that joins a running container (its namespaces,
// root, working directory, user, capabilities, environment), on a terminal with -it, detached
// with -d, and the exit codes and messages a user sees.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NOSUB_USER, runAs, TEST_USER, TSPOD_BIN, withPty } from '../lib';
import { IMAGE, openBed, show, until, userDir, userFile, type Bed } from './container-session-util';

const NAMESPACES = 'for n in user mnt pid uts ipc net; do readlink /proc/self/ns/$n; done';
let bed: Bed;
let work: string;

test.before(async () => {
  bed = await openBed();
  work = userDir('exec');
  // The main process leaves its namespaces and a file where an exec'd process can look.
  const r = await bed.t([
    'run', '-d', '--name', 'web', '-w', '/home/user', '-e', 'FROM_RUN=yes', IMAGE,
    'sh', '-c', `${NAMESPACES} > /tmp/ns-main; echo made-by-container > /tmp/from-ctr; exec sleep 600`,
  ]);
  assert.is(r.code, 0, show(r));
  await until('the container to write its namespaces', async () => {
    const c = await bed.t(['exec', 'web', 'cat', '/tmp/ns-main']);
    return c.code === 0 && c.stdout.trim().split('\n').length === 6 ? true : undefined;
  });
});

test.after(() => {
  bed?.close();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('exec joins every namespace of the container and its root file system', async () => {
  const r = await bed.t(['exec', 'web', 'sh', '-c', `${NAMESPACES}; cat /tmp/from-ctr /tmp/ns-main`]);
  assert.is(r.code, 0, show(r));
  const lines = r.stdout.trim().split('\n');
  const mine = lines.slice(0, 6);
  assert.is(lines[6], 'made-by-container');
  assert.equal(mine, lines.slice(7), 'the namespaces of the exec process and of the container process');
  assert.match(mine[0], /^user:\[\d+\]$/);
  // ...and they are the container's, not the host's
  assert.is.not(mine[0], fs.readlinkSync('/proc/self/ns/user'));
  assert.is.not(mine[2], fs.readlinkSync('/proc/self/ns/pid'));
  const init = await bed.t(['exec', 'web', 'cat', '/proc/1/cmdline']);
  assert.is(init.stdout.replace(/\0/g, ' ').trim(), 'sleep 600', 'pid 1 is the container command');
});

test('exit codes are the command\'s; 126 and 127 as docker, with its words', async () => {
  assert.is((await bed.t(['exec', 'web', 'true'])).code, 0);
  assert.is((await bed.t(['exec', 'web', 'sh', '-c', 'exit 3'])).code, 3);
  const denied = await bed.t(['exec', 'web', '/etc/passwd']);
  assert.is(denied.code, 126, show(denied));
  assert.is(denied.stderr.trim(), 'Error: open executable `/etc/passwd`: Permission denied');
  const missing = await bed.t(['exec', 'web', 'nosuch']);
  assert.is(missing.code, 127, show(missing));
  assert.is(missing.stderr.trim(), 'Error: executable file `nosuch` not found in $PATH: No such file or directory');
});

test('the working directory is the container\'s unless -w', async () => {
  assert.is((await bed.t(['exec', 'web', 'pwd'])).stdout, '/home/user\n');
  assert.is((await bed.t(['exec', '-w', '/tmp', 'web', 'pwd'])).stdout, '/tmp\n');
  const r = await bed.t(['exec', '-w', '/nonexistent', 'web', 'pwd']);
  assert.is(r.code, 127, show(r));
  assert.match(r.stderr, /chdir to `\/nonexistent`: No such file or directory/);
});

test('-u runs as a user of the container, without capabilities and with no_new_privs', async () => {
  const id = await bed.t(['exec', '-u', '1000', 'web', 'id']);
  assert.is(id.stdout.trim(), 'uid=1000(user) gid=1000(user) groups=1000(user)', show(id));
  const byName = await bed.t(['exec', '-u', 'user', 'web', 'sh', '-c', 'id -u; echo $HOME; grep -E "^(CapEff|NoNewPrivs)" /proc/self/status']);
  assert.is(byName.stdout, '1000\n/home/user\nCapEff:\t0000000000000000\nNoNewPrivs:\t1\n', show(byName));
  const unknown = await bed.t(['exec', '-u', 'nobody-here', 'web', 'id']);
  assert.is(unknown.code, 125);
  assert.match(unknown.stderr, /unable to find user nobody-here: no matching entries in passwd file/);
});

test('root in exec has the capabilities of the container process, no more', async () => {
  const r = await bed.t(['exec', 'web', 'sh', '-c', 'grep -E "^Cap(Eff|Bnd)" /proc/self/status; grep -E "^Cap(Eff|Bnd)" /proc/1/status']);
  const lines = r.stdout.trim().split('\n');
  assert.is(lines.length, 4, show(r));
  assert.equal(lines.slice(0, 2), lines.slice(2));
  assert.is.not(lines[1], 'CapBnd:\t000001ffffffffff', 'not every capability');
  const privileged = await bed.t(['exec', '--privileged', 'web', 'grep', 'CapEff', '/proc/self/status']);
  assert.is.not(privileged.stdout, lines[0] + '\n', 'more with --privileged');
});

test('the environment: the container\'s, then --env-file, then -e', async () => {
  userFile(path.join(work, 'env.list'), '# a comment\nFROM_FILE=file\nX=from-file\n');
  const r = await bed.t(['exec', '--env-file', 'env.list', '-e', 'X=1', 'web', 'sh', '-c', 'echo $X $FROM_FILE $FROM_RUN $HOME'], { cwd: work });
  assert.is(r.stdout, '1 file yes /root\n', show(r));
});

test('stdin is the caller\'s with -i, empty without', async () => {
  const withI = await bed.t(['exec', '-i', 'web', 'sh', '-c', 'cat; echo end'], { input: 'piped line\n' });
  assert.is(withI.stdout, 'piped line\nend\n', show(withI));
  const without = await bed.t(['exec', 'web', 'sh', '-c', 'cat; echo end'], { input: 'piped line\n' });
  assert.is(without.stdout, 'end\n', show(without));
});

test('-it gives the process a terminal of the container\'s devpts, of the caller\'s size', async () => {
  const r = await withPty(TEST_USER, [TSPOD_BIN, '--root', bed.store, 'exec', '-it', 'web', 'sh'], {
    steps: [
      { expect: '# ', send: 'tty; stty size; echo T=$TERM\r' },
      { expect: 'T=xterm', send: 'exit 4\r' },
    ],
    rows: 30,
    cols: 100,
    timeout: 20_000,
  });
  assert.is(r.stuckAt, undefined, r.output);
  assert.is(r.code, 4, r.output);
  assert.match(r.output, /\/dev\/pts\/\d+\r\n30 100\r\n/);
});

test('-d returns at once with the session ID; the process runs on', async () => {
  const r = await bed.t(['exec', '-d', 'web', 'sh', '-c', 'sleep 0.3; echo detached > /tmp/d; sleep 60']);
  assert.is(r.code, 0, show(r));
  assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
  const out = await until('the detached process', async () => {
    const c = await bed.t(['exec', 'web', 'cat', '/tmp/d']);
    return c.code === 0 ? c.stdout : undefined;
  });
  assert.is(out, 'detached\n');
});

test('a signal to tspod reaches the process', async () => {
  // timeout(1) sends SIGTERM to tspod after a second; --preserve-status exits with tspod's status.
  const t0 = Date.now();
  const r = await runAs(TEST_USER, ['timeout', '--preserve-status', '-s', 'TERM', '1', TSPOD_BIN, '--root', bed.store, 'exec', 'web', 'sleep', '30']);
  assert.is(r.code, 143, show(r));
  assert.ok(Date.now() - t0 < 15_000, 'ended by the signal, not by sleep');
});

test('no exec into a container that is not running, or not there', async () => {
  const c = await bed.t(['create', '--name', 'stopped', IMAGE, 'true']);
  assert.is(c.code, 0, show(c));
  const r = await bed.t(['exec', 'stopped', 'true']);
  assert.is(r.code, 125);
  assert.is(r.stderr.trim(), 'Error: can only create exec sessions on running containers: container state improper');
  const none = await bed.t(['exec', 'nosuch', 'true']);
  assert.is(none.code, 125);
  assert.is(none.stderr.trim(), 'Error: no container with name or ID "nosuch" found: no such container');
});

test('exec true is fast', async () => {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = process.hrtime.bigint();
    const r = await bed.t(['exec', 'web', 'true']);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    assert.is(r.code, 0);
  }
  times.sort((a, b) => a - b);
  console.log(`    exec true: median ${times[2].toFixed(0)} ms (${times.map((t) => t.toFixed(0)).join(', ')})`);
  assert.ok(times[2] < 2000, `median ${times[2]} ms`);
});

test('without subordinate ids: root only, and -u 1000 says why not', async () => {
  const nb = await openBed(NOSUB_USER);
  try {
    assert.is((await nb.t(['run', '-d', '--name', 'w', IMAGE, 'sleep', '600'])).code, 0);
    const id = await nb.t(['exec', 'w', 'id']);
    assert.is(id.stdout, 'uid=0(root) gid=0(root) groups=0(root)\n', show(id));
    const u = await nb.t(['exec', '-u', '1000', 'w', 'id']);
    assert.is(u.code, 125);
    assert.match(u.stderr, /is not mapped in the container's user namespace \(only 0 is: no subordinate ids/);
  } finally {
    nb.close();
  }
});

test.run();
