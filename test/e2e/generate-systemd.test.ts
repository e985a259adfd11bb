// generate systemd as the unprivileged user: every unit passes `systemd-analyze --user verify`,
// and its command lines, read back with systemd's rules and run by hand with the specifiers
// expanded (no systemd runs here), start the container, leave the monitor's pid alone in PIDFile=,
// and stop (and with --new remove) it again.

import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { freshStore, removeStore, REGISTRY, runAs, runtimeDirFor, TEST_USER, TSPOD_BIN, tspod, userInfo, type RunResult } from '../lib';
import { execArgv, expandSpecifiers, parseUnit, splitWords, unitValue, unitValues, type UnitFile } from './generate-helpers';

const IMAGE = `${REGISTRY}/busybox`;
const show = (r: RunResult) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

async function ok(p: Promise<RunResult>): Promise<RunResult> {
  const r = await p;
  assert.is(r.code, 0, show(r));
  return r;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** True once something answers HTTP on the port (busybox httpd answers 404 for /). */
async function answers(port: number, timeoutMs = 10_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const got = await new Promise<boolean>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: 1000 }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
      req.on('timeout', () => (req.destroy(), resolve(false)));
    });
    if (got) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitGone(pid: number, ms = 10_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !alive(pid);
}

/** `systemd-analyze --user verify` as the user: silent and successful for a good unit. */
async function verify(file: string): Promise<RunResult> {
  return runAs(TEST_USER, ['systemd-analyze', '--user', 'verify', file]);
}

/** The unit's lines run as systemd would run them for the user's manager, without systemd. */
class HandRun {
  readonly spec: Record<string, string>;
  readonly env: Record<string, string> = {};
  constructor(
    readonly unit: UnitFile,
    unitName: string,
  ) {
    const u = userInfo(TEST_USER);
    this.spec = { t: runtimeDirFor(u), n: unitName, h: u.home, u: u.name, U: String(u.uid) };
    for (const v of unitValues(unit, 'Service', 'Environment')) {
      for (const w of splitWords(v)) {
        const e = expandSpecifiers(w, this.spec);
        this.env[e.slice(0, e.indexOf('='))] = e.slice(e.indexOf('=') + 1);
      }
    }
  }

  argv(key: string): string[] {
    const v = unitValue(this.unit, 'Service', key);
    if (v === undefined) throw new Error(`the unit has no ${key}=`);
    return execArgv(v, this.spec).argv;
  }

  run(key: string): Promise<RunResult> {
    return runAs(TEST_USER, this.argv(key), { env: this.env });
  }

  pidFile(): string {
    return expandSpecifiers(unitValue(this.unit, 'Service', 'PIDFile')!, this.spec);
  }
}

async function inspect(store: string, name: string, format: string): Promise<string> {
  return (await ok(tspod(TEST_USER, ['inspect', '--format', format, name], { store }))).stdout.trim();
}

/** PIDFile= holds one pid, the monitor's: alive, not tspod's, as inspect reports it. */
async function assertMonitorPidFile(run: HandRun, store: string, name: string): Promise<number> {
  const text = fs.readFileSync(run.pidFile(), 'utf8');
  assert.match(text, /^\d+\n?$/, `PIDFile= holds one pid only: ${JSON.stringify(text)}`);
  const pid = Number(text.trim());
  assert.is(String(pid), await inspect(store, name, '{{.State.ConmonPid}}'));
  assert.ok(alive(pid), 'the monitor runs');
  assert.match(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0], /tspod-helper$/, 'it is the monitor');
  return pid;
}

let store = '';
let work = '';
let port = 0;

const sd = suite('generate systemd');

sd.before(async () => {
  store = await freshStore(TEST_USER);
  // A scratch directory of the user's, removed by the harness even after a crash.
  work = await freshStore(TEST_USER);
  await ok(tspod(TEST_USER, ['pull', '-q', IMAGE], { store }));
  port = await freePort();
});

sd.after(async () => {
  for (const n of ['web', 'odd', 'pol']) await tspod(TEST_USER, ['rm', '-f', '--ignore', n], { store });
  removeStore(store);
  removeStore(work);
});

sd('a unit for an existing container: verified, started by hand, monitor in PIDFile=, stopped', async () => {
  await ok(tspod(TEST_USER, ['run', '-d', '--name', 'web', '--stop-timeout', '2', '-p', `127.0.0.1:${port}:80`, '-e', 'FOO=bar', '-v', '/tmp:/hosttmp:ro', IMAGE, 'httpd', '-f', '-p', '80'], { store }));
  const gen = await ok(tspod(TEST_USER, ['generate', 'systemd', '--name', '--files', 'web'], { store, cwd: work }));
  const file = path.join(work, 'container-web.service');
  assert.is(gen.stdout, `${file}\n`, 'prints the path of the file it wrote');
  const v = await verify(file);
  assert.is(v.code, 0, show(v));
  assert.is(v.stdout + v.stderr, '', `systemd-analyze says nothing of a good unit:\n${show(v)}`);

  const unit = parseUnit(fs.readFileSync(file, 'utf8'));
  assert.is(unitValue(unit, 'Service', 'Type'), 'forking');
  assert.is(unitValue(unit, 'Service', 'TimeoutStopSec'), '62', '60 + the container\'s stop timeout');
  assert.is(unitValue(unit, 'Service', 'Restart'), 'on-failure');
  const run = new HandRun(unit, 'container-web.service');
  assert.equal(run.argv('ExecStart'), [TSPOD_BIN, '--root', store, 'start', 'web']);

  await ok(tspod(TEST_USER, ['stop', 'web'], { store }));
  assert.is(await inspect(store, 'web', '{{.State.Status}}'), 'exited');
  await ok(run.run('ExecStart'));
  assert.is(await inspect(store, 'web', '{{.State.Status}}'), 'running');
  const monitor = await assertMonitorPidFile(run, store, 'web');
  assert.ok(await answers(port), 'the container serves on its published port');

  await ok(run.run('ExecStop'));
  assert.is(await inspect(store, 'web', '{{.State.Status}}'), 'exited');
  assert.ok(await waitGone(monitor), 'the monitor, the service\'s main process, ends');
  await ok(run.run('ExecStopPost'));
});

sd('--new: the unit makes the container from its original options, and removes it', async () => {
  const gen = await ok(tspod(TEST_USER, ['generate', 'systemd', '--new', '--name', '--files', 'web'], { store, cwd: work }));
  const file = gen.stdout.trim();
  const v = await verify(file);
  assert.is(v.code, 0, show(v));
  assert.is(v.stdout + v.stderr, '', show(v));
  const unit = parseUnit(fs.readFileSync(file, 'utf8'));
  const run = new HandRun(unit, 'container-web.service');
  assert.equal(run.argv('ExecStart'), [
    TSPOD_BIN, '--root', store, 'run', '-d', '--replace', '--name', 'web',
    '--stop-timeout', '2', '-p', `127.0.0.1:${port}:80`, '-e', 'FOO=bar', '-v', '/tmp:/hosttmp:ro', IMAGE, 'httpd', '-f', '-p', '80',
  ]);
  const oldId = await inspect(store, 'web', '{{.Id}}');
  await ok(tspod(TEST_USER, ['rm', '-f', 'web'], { store }));

  await ok(run.run('ExecStartPre'));
  await ok(run.run('ExecStart'));
  await ok(run.run('ExecStartPost'));
  const id = await inspect(store, 'web', '{{.Id}}');
  assert.is.not(id, oldId, 'a new container');
  assert.is(await inspect(store, 'web', '{{.State.Status}}'), 'running');
  assert.match(await inspect(store, 'web', '{{json .Config.Env}}'), /"FOO=bar"/);
  assert.is(await inspect(store, 'web', '{{json .Args}}'), '["-f","-p","80"]');
  assert.match(await inspect(store, 'web', '{{json .Mounts}}'), /"Source":"\/tmp","Destination":"\/hosttmp"/);
  await assertMonitorPidFile(run, store, 'web');
  assert.ok(await answers(port), 'serving');

  // A start that finds the container of an earlier start, stopped but not removed (the machine
  // went down before ExecStopPost): --replace takes its place.
  await ok(run.run('ExecStop'));
  await ok(run.run('ExecStartPre'));
  await ok(run.run('ExecStart'));
  await ok(run.run('ExecStartPost'));
  assert.is.not(await inspect(store, 'web', '{{.Id}}'), id, 'replaced');
  const monitor = await assertMonitorPidFile(run, store, 'web');

  await ok(run.run('ExecStop'));
  assert.ok(await waitGone(monitor), 'the monitor ends');
  await ok(run.run('ExecStopPost'));
  const gone = await tspod(TEST_USER, ['inspect', 'web'], { store });
  assert.is(gone.code, 125, 'ExecStopPost removed the container');
  // Stopping again (systemd runs ExecStopPost after a failed start too) is not an error.
  await ok(run.run('ExecStopPost'));
});

sd('--new carries hostile arguments to the container unchanged', async () => {
  const args = ['sh', '-c', 'sleep 1000', 'a b', '$HOME', '100%', "it's", '"q"', 'back\\slash', ';', '', 'tab\there', 'x;y', '%n'];
  // BARE comes from tspod's own environment: the unit must carry it in an Environment= line.
  const bare = 'v $1 "50%" \\ end';
  await ok(tspod(TEST_USER, ['create', '--name', 'odd', '--stop-timeout', '1', '-e', 'V=$x 50%', '-e', 'BARE', IMAGE, ...args], { store, env: { BARE: bare } }));
  const gen = await ok(tspod(TEST_USER, ['generate', 'systemd', '--new', '--name', '--files', 'odd'], { store, cwd: work }));
  const file = gen.stdout.trim();
  const v = await verify(file);
  assert.is(v.code, 0, show(v));
  assert.is(v.stdout + v.stderr, '', show(v));
  const run = new HandRun(parseUnit(fs.readFileSync(file, 'utf8')), 'container-odd.service');
  await ok(tspod(TEST_USER, ['rm', '-f', 'odd'], { store }));
  await ok(run.run('ExecStart'));
  await ok(run.run('ExecStartPost'));
  assert.is(await inspect(store, 'odd', '{{json .Args}}'), JSON.stringify(args.slice(1)));
  const env = JSON.parse(await inspect(store, 'odd', '{{json .Config.Env}}')) as string[];
  assert.ok(env.includes('V=$x 50%'), env.join('\n'));
  assert.ok(env.includes(`BARE=${bare}`), env.join('\n'));
  assert.is(run.env.BARE, bare, 'Environment= holds the value');
  await assertMonitorPidFile(run, store, 'odd');
  await ok(run.run('ExecStop'));
  await ok(run.run('ExecStopPost'));
});

sd("Restart= follows --restart-policy, else the container's --restart; a bad policy is refused", async () => {
  await ok(tspod(TEST_USER, ['create', '--name', 'pol', '--restart', 'on-failure:4', '--stop-timeout', '3', IMAGE, 'true'], { store }));
  const own = parseUnit((await ok(tspod(TEST_USER, ['generate', 'systemd', '--name', 'pol'], { store }))).stdout);
  assert.is(unitValue(own, 'Service', 'Restart'), 'on-failure');
  assert.is(unitValue(own, 'Service', 'StartLimitBurst'), '4');
  assert.is(unitValue(own, 'Service', 'TimeoutStopSec'), '63');
  const forced = parseUnit((await ok(tspod(TEST_USER, ['generate', 'systemd', '--restart-policy', 'always', '-t', '20', 'pol'], { store }))).stdout);
  assert.is(unitValue(forced, 'Service', 'Restart'), 'always');
  assert.is(unitValue(forced, 'Service', 'TimeoutStopSec'), '80');
  const newUnit = (await ok(tspod(TEST_USER, ['generate', 'systemd', '--new', 'pol'], { store }))).stdout;
  assert.not.match(newUnit, /--restart/, 'systemd restarts, not tspod');
  const bad = await tspod(TEST_USER, ['generate', 'systemd', '--restart-policy', 'sometimes', 'pol'], { store });
  assert.is(bad.code, 125);
  assert.match(bad.stderr, /^Error: sometimes is not a valid restart policy: use no, on-success, on-failure, on-abnormal, on-watchdog, on-abort, always\n$/);
  const missing = await tspod(TEST_USER, ['generate', 'systemd', 'nosuch'], { store });
  assert.is(missing.code, 125);
  assert.match(missing.stderr, /no container with name or ID "nosuch" found/);
  // The unit's name: ID without --name, with prefix and separator as asked; JSON on request.
  const id = await inspect(store, 'pol', '{{.Id}}');
  const json = JSON.parse((await ok(tspod(TEST_USER, ['generate', 'systemd', '--container-prefix', 'app', '--separator', '_', '--format', 'json', 'pol'], { store }))).stdout);
  assert.equal(Object.keys(json), [`app_${id}`]);
  assert.match(json[`app_${id}`], new RegExp(`^# app_${id}\\.service\\n`));
});

sd('the default store needs no --root in the unit', async () => {
  const home = await freshStore(TEST_USER);
  try {
    const env = { XDG_DATA_HOME: home };
    await ok(runAs(TEST_USER, [TSPOD_BIN, 'pull', '-q', IMAGE], { env }));
    await ok(runAs(TEST_USER, [TSPOD_BIN, 'create', '--name', 'plain', '--stop-timeout', '1', IMAGE, 'sleep', '1000'], { env }));
    const dir = work;
    const gen = await ok(runAs(TEST_USER, [TSPOD_BIN, 'generate', 'systemd', '--name', '--files', 'plain'], { env, cwd: dir }));
    const text = fs.readFileSync(gen.stdout.trim(), 'utf8');
    assert.not.match(text, /--root/);
    assert.match(text, new RegExp(`^RequiresMountsFor=${home}/tspod$`, 'm'));
    const v = await verify(gen.stdout.trim());
    assert.is(v.code, 0, show(v));
    const run = new HandRun(parseUnit(text), 'container-plain.service');
    assert.equal(run.argv('ExecStart'), [TSPOD_BIN, 'start', 'plain']);
    await ok(runAs(TEST_USER, run.argv('ExecStart'), { env }));
    const pid = Number(fs.readFileSync(run.pidFile(), 'utf8'));
    assert.ok(alive(pid));
    await ok(runAs(TEST_USER, run.argv('ExecStop'), { env }));
    assert.ok(await waitGone(pid));
    await ok(runAs(TEST_USER, [TSPOD_BIN, 'rm', 'plain'], { env }));
  } finally {
    removeStore(home);
  }
});

sd('the verify check is real: a broken unit fails it', async () => {
  const gen = await ok(tspod(TEST_USER, ['generate', 'systemd', '--name', '--files', 'pol'], { store, cwd: work }));
  const good = fs.readFileSync(gen.stdout.trim(), 'utf8');
  const variants: Array<[string, string]> = [
    ['a relative ExecStart', good.replace(/^ExecStart=\//m, 'ExecStart=')],
    ['a missing executable', good.replace(/^ExecStart=\S+/m, 'ExecStart=/nonexistent/tspod')],
    ['an unknown key', good.replace(/^Type=forking$/m, 'Type=forking\nPidFile=/x')],
    ['an invalid type', good.replace(/^Type=forking$/m, 'Type=forked')],
  ];
  for (const [what, text] of variants) {
    assert.is.not(text, good, what);
    const f = path.join(work, 'broken.service');
    fs.writeFileSync(f, text);
    const v = await verify(f);
    assert.ok(v.code !== 0 || (v.stdout + v.stderr).trim() !== '', `${what} went unnoticed:\n${text}`);
  }
});

sd.run();
