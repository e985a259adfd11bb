// `inspect` of containers field by field (podman's names and shapes, as in
// test/reference/podman-4.3.1/inspect-container-*.json): an exited one with mounts,
// labels and changed capabilities, a running one with a published port, and a created one from
// the layered image; --format templates; missing containers.

import * as fs from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixtures, REFERENCE_DIR, TEST_USER, userInfo } from '../lib';
import { closeBed, freePort, inspectOne, LAYERED, openBed, pidFile, PROBE, waitUntil, type Bed } from './container-helpers';
import { assertOneLineError, show } from './image-helpers';

let bed: Bed;
let port: number;
let hostDir: string;
let t0: number;
let t1: number;

const REF = REFERENCE_DIR;
const ZERO = '0001-01-01T00:00:00Z';
const RFC3339NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
const DEFAULT_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETFCAP', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT'];

test.before(async () => {
  bed = await openBed(TEST_USER, [PROBE, LAYERED]);
  port = await freePort();
  const u = userInfo(TEST_USER);
  hostDir = fs.mkdtempSync('/tmp/tspod-ctr-inspect-');
  fs.chownSync(hostDir, u.uid, u.gid);
  t0 = Date.now();
  const ex = await bed.run([
    'run', '--name', 'ex', '-v', `${hostDir}:/data:ro`, '--tmpfs', '/scratch', '-e', 'X=1', '-l', 'a=b',
    '--cap-add', 'NET_RAW', '--cap-drop', 'CHOWN', PROBE, 'sh', '-c', 'exit 3',
  ]);
  assert.is(ex.code, 3, show(ex));
  await bed.ok(['run', '-d', '--name', 'up', '--hostname', 'uphost', '-p', `127.0.0.1:${port}:80`, PROBE, '/probe', 'sleep-trap']);
  await bed.ok(['create', '--name', 'lay', LAYERED]);
  t1 = Date.now();
});

test.after(async () => {
  await closeBed(bed);
  fs.rmSync(hostDir, { recursive: true, force: true });
});

const within = (iso: string, what: string) => {
  assert.match(iso, RFC3339NANO, what);
  const t = Date.parse(iso);
  assert.ok(t >= t0 - 1000 && t <= Date.now(), `${what} ${iso} within the test`);
  return t;
};

test("every top-level, State, Config and HostConfig field of podman's inspect is there", async () => {
  const ref = JSON.parse(fs.readFileSync(`${REF}/inspect-container-exited.json`, 'utf8'))[0] as Record<string, any>;
  const ours = await inspectOne(bed, 'ex');
  // Paths podman keeps for its OCI runtime and resource limits tspod does not have (no cgroups).
  const without = (keys: string[], drop: RegExp) => keys.filter((k) => !drop.test(k));
  assert.equal(without(Object.keys(ref), /^OCIConfigPath$/).filter((k) => !(k in ours)), []);
  assert.equal(Object.keys(ref.State).filter((k) => !(k in ours.State)), []);
  assert.equal(without(Object.keys(ref.Config), /^(HealthcheckOnFailureAction|Passwd|sdNotifyMode)$/).filter((k) => !(k in ours.Config)), []);
  const limits = /^(Blkio|Cpu|Cgroup(Conf|Parent)$|Devices$|DiskQuota|IOMaximum|Isolation|KernelMemory|Memory|NanoCpus|OomKillDisable|PidsLimit|Ulimits)/;
  assert.equal(without(Object.keys(ref.HostConfig), limits).filter((k) => !(k in ours.HostConfig)), []);
  assert.equal(Object.keys(ref.NetworkSettings).filter((k) => !(k in ours.NetworkSettings)), []);
});

test('an exited container: identity, command, state, image, config, host config, mounts', async () => {
  const i = await inspectOne(bed, 'ex');
  const full = (await bed.ok(['ps', '-a', '--no-trunc', '--filter', 'name=^ex$', '--format', '{{.ID}}'])).stdout.trim();
  assert.is(i.Id, full);
  assert.match(i.Id, /^[0-9a-f]{64}$/);
  assert.is(i.Name, 'ex');
  const created = within(i.Created, 'Created');
  assert.is(i.Path, 'sh');
  assert.equal(i.Args, ['-c', 'exit 3']);

  const s = i.State;
  assert.equal(
    [s.Status, s.Running, s.Paused, s.Restarting, s.OOMKilled, s.Dead, s.Pid, s.ExitCode, s.Error],
    ['exited', false, false, false, false, false, 0, 3, ''],
  );
  const started = within(s.StartedAt, 'StartedAt');
  const finished = within(s.FinishedAt, 'FinishedAt');
  assert.ok(created <= started && started <= finished, `${i.Created} <= ${s.StartedAt} <= ${s.FinishedAt}`);

  const img = fixtures().images.probe;
  assert.is(i.Image, img.imageId);
  assert.is(i.ImageName, PROBE);
  assert.is(i.ImageDigest, img.manifestDigest);
  assert.equal(i.EffectiveCaps, ['CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_SETFCAP', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT']);
  assert.equal(i.BoundingCaps, i.EffectiveCaps);

  const c = i.Config;
  assert.is(c.Hostname, i.Id.slice(0, 12));
  assert.is(c.User, '');
  assert.is(c.Image, PROBE);
  assert.equal(c.Cmd, ['sh', '-c', 'exit 3']);
  assert.is(c.Entrypoint, '');
  assert.is(c.WorkingDir, '/');
  assert.equal(c.Labels, { a: 'b' });
  assert.equal([c.Tty, c.OpenStdin, c.StopSignal, c.StopTimeout], [false, false, 15, 10]);
  for (const e of ['X=1', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', `HOSTNAME=${i.Id.slice(0, 12)}`]) {
    assert.ok(c.Env.includes(e), `Env has ${e}: ${c.Env.join(' ')}`);
  }
  assert.ok(Array.isArray(c.CreateCommand) && c.CreateCommand.includes('--cap-add'), `CreateCommand ${JSON.stringify(c.CreateCommand)}`);

  const h = i.HostConfig;
  assert.equal(h.Binds, [`${hostDir}:/data:ro,rprivate,rbind`]);
  assert.equal(h.CapAdd, [], 'NET_RAW is in the OCI default set: not an addition, as podman reports it');
  assert.equal(h.CapDrop, ['CAP_AUDIT_WRITE', 'CAP_CHOWN', 'CAP_MKNOD']);
  assert.equal(Object.keys(h.Tmpfs), ['/scratch']);
  assert.equal([h.AutoRemove, h.ReadonlyRootfs, h.Privileged, h.NetworkMode], [false, false, false, 'pasta']);
  assert.is(h.LogConfig.Type, 'k8s-file');
  assert.is(h.LogConfig.Path, `${bed.store}/containers/${i.Id}/userdata/ctr.log`);
  assert.equal(h.RestartPolicy, { Name: '', MaximumRetryCount: 0 });

  const bind = i.Mounts.find((m: { Destination: string }) => m.Destination === '/data');
  assert.equal(bind, { Type: 'bind', Source: hostDir, Destination: '/data', Driver: '', Mode: '', Options: ['rbind'], RW: false, Propagation: 'rprivate' });
  const tmpfs = i.Mounts.find((m: { Destination: string }) => m.Destination === '/scratch');
  assert.is(tmpfs?.Type, 'tmpfs');
  assert.is(tmpfs?.RW, true);
  assert.equal(i.NetworkSettings.Ports, {});
  assert.is(i.NetworkSettings.SandboxKey, '');
});

test('a running container: Pid and ConmonPid are the processes on the host; the published port; no FinishedAt', async () => {
  const i = await inspectOne(bed, 'up');
  const pids = pidFile(bed.store, i.Id);
  assert.equal([i.State.Status, i.State.Running, i.State.Pid, i.State.ConmonPid, i.State.ExitCode], ['running', true, pids.container, pids.monitor, 0]);
  await waitUntil(() => fs.readFileSync(`/proc/${pids.container}/cmdline`, 'utf8') === '/probe\0sleep-trap\0', 5_000, 'the probe process');
  within(i.State.StartedAt, 'StartedAt');
  assert.is(i.State.FinishedAt, ZERO);
  assert.is(i.Config.Hostname, 'uphost');
  assert.is(i.Path, '/probe');
  assert.equal(i.Args, ['sleep-trap']);
  assert.equal(i.NetworkSettings.Ports, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] });
  assert.is(i.NetworkSettings.SandboxKey, `/proc/${pids.container}/ns/net`);
  assert.equal(i.EffectiveCaps, DEFAULT_CAPS);
  assert.equal(i.HostConfig.CapDrop, ['CAP_AUDIT_WRITE', 'CAP_MKNOD', 'CAP_NET_RAW'], "podman's default report");
  await bed.ok(['stop', 'up']);
  const after = await inspectOne(bed, 'up');
  assert.equal([after.State.Status, after.State.Running, after.State.Pid, after.State.ConmonPid, after.State.ExitCode], ['exited', false, 0, 0, 3]);
  const finished = within(after.State.FinishedAt, 'FinishedAt');
  assert.ok(finished <= Date.now() && finished >= t1 - 1000);
});

test("a created container from the layered image: the image's Entrypoint, Cmd, WorkingDir, Env, Labels and StopSignal", async () => {
  const i = await inspectOne(bed, 'lay');
  const img = fixtures().images.layered;
  assert.is(i.State.Status, 'created');
  assert.equal([i.State.StartedAt, i.State.FinishedAt, i.State.Pid], [ZERO, ZERO, 0]);
  assert.is(i.Path, '/bin/sh');
  assert.equal(i.Args, ['-c', 'echo layered']);
  assert.is(i.Config.Entrypoint, '/bin/sh -c');
  assert.equal(i.Config.Cmd, ['echo layered']);
  assert.is(i.Config.WorkingDir, '/srv');
  assert.ok(i.Config.Env.includes('LAYERED=1'));
  assert.equal(i.Config.Labels, img.config.Labels);
  assert.is(i.Config.StopSignal, 2);
  assert.is(i.Image, img.imageId);
  assert.is(i.ImageName, LAYERED);
});

test("Config.Env has the HOME the process gets: from the container's /etc/passwd for -u, / without an entry, -e HOME wins", async () => {
  const cases: [string[], string][] = [
    [[], '/root'],
    [['-u', 'user'], '/home/user'],
    [['-u', '1:1'], '/usr/sbin'],
    [['-u', '4242'], '/'],
    [['-e', 'HOME=/srv/home'], '/srv/home'],
  ];
  for (const [i, [flags, home]] of cases.entries()) {
    const name = `home${i}`;
    const r = await bed.ok(['run', '--name', name, ...flags, PROBE, '/probe', 'env']);
    const seen = r.stdout.split('\n').filter((l) => l.startsWith('HOME='));
    assert.equal(seen, [`HOME=${home}`], `the process of ${flags.join(' ') || 'root'}`);
    const env = JSON.parse((await bed.ok(['inspect', '--format', '{{json .Config.Env}}', name])).stdout) as string[];
    assert.equal(env.filter((e) => e.startsWith('HOME=')), [`HOME=${home}`], `inspect of ${flags.join(' ') || 'root'}: ${env.join(' ')}`);
    await bed.ok(['rm', name]);
  }
});

test('--format templates: {{.State.Status}} {{.State.ExitCode}}, nested fields, json; several containers at once', async () => {
  const f = async (tpl: string, ...names: string[]) => (await bed.ok(['inspect', '--format', tpl, ...names])).stdout;
  assert.is(await f('{{.State.Status}} {{.State.ExitCode}}', 'ex'), 'exited 3\n');
  assert.is(await f('{{.Name}} {{.State.Status}}', 'ex', 'lay'), 'ex exited\nlay created\n');
  assert.is(await f('{{.Config.Hostname}} {{.HostConfig.NetworkMode}} {{.State.OOMKilled}}', 'up'), 'uphost pasta false\n');
  assert.equal(JSON.parse(await f('{{json .Config.Labels}}', 'ex')), { a: 'b' });
  assert.is(await f('{{.ImageName}}', 'lay'), `${LAYERED}\n`);
  const both = JSON.parse((await bed.ok(['container', 'inspect', 'ex', 'lay'])).stdout) as { Name: string }[];
  assert.equal(both.map((x) => x.Name), ['ex', 'lay']);
});

test('a missing container: one line and 125; with an existing one, its JSON is still printed', async () => {
  const r = await bed.run(['inspect', 'nosuch']);
  assertOneLineError(r, /^Error: no such object: "nosuch"$/, 125);
  assert.is(r.stdout.trim(), '[]');
  const mixed = await bed.run(['inspect', '--format', '{{.Name}}', 'ex', 'nosuch']);
  assert.is(mixed.code, 125, show(mixed));
  assert.is(mixed.stdout, 'ex\n');
  assertOneLineError(mixed, /^Error: no such object: "nosuch"$/, 125);
  const typed = await bed.run(['inspect', '--type', 'container', PROBE]);
  assertOneLineError(typed, /^Error: no such container localhost:5000\/probe:latest$/, 125);
});

test.run();
