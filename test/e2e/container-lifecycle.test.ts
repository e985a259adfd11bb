// The detached life of a container: run -d, the monitor that outlives tspod, kill, stop (with its
// timeout and the stop signals), start on the same writable layer, restart, wait, a monitor
// killed with SIGKILL, many containers at once, --rm in the background, and missing containers.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TEST_USER, TSPOD_BIN } from '../lib';
import {
  alive,
  attachSockets,
  closeBed,
  containerDir,
  inspectOne,
  LAYERED,
  leftovers,
  lines,
  NOTHING_LEFT,
  openBed,
  pidFile,
  processes,
  processesMentioning,
  PROBE,
  sleep,
  waitUntil,
  type Bed,
} from './container-helpers';
import { assertOneLineError, show } from './image-helpers';

let bed: Bed;

test.before(async () => {
  bed = await openBed(TEST_USER, [PROBE, LAYERED]);
});

test.after(async () => {
  await closeBed(bed);
});

const logs = async (name: string) => (await bed.ok(['logs', name])).stdout;
const waitLogs = (name: string, text: string, ms = 10_000) =>
  waitUntil(async () => (await logs(name)).includes(text), ms, `"${text}" in the logs of ${name}`);
const format = async (name: string, tpl: string) => (await bed.ok(['inspect', '--format', tpl, name])).stdout.trim();

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = Date.now();
  const v = await fn();
  return [v, Date.now() - t0];
}

// ---------------------------------------------------------------------------------------------

test('run -d prints the ID and returns; the monitor outlives tspod and no tspod process stays behind', async () => {
  const [r, ms] = await timed(() => bed.ok(['run', '-d', '--name', 'life', PROBE, '/probe', 'sleep-trap']));
  assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
  assert.ok(ms < 10_000, `run -d returned in ${ms} ms`);
  const id = r.stdout.trim();
  const pids = pidFile(bed.store, id);
  assert.ok(alive(pids.container) && alive(pids.monitor), `container ${pids.container} and monitor ${pids.monitor} run`);
  assert.equal(processesMentioning(bed.store), [], 'no tspod process of this store is left');

  const all = processes();
  const byPid = new Map(all.map((p) => [p.pid, p]));
  const monitor = byPid.get(pids.monitor)!;
  assert.is(monitor.comm, 'tspod-helper');
  assert.is(byPid.get(pids.container)!.ppid, pids.monitor, "the container is the monitor's child");
  for (let p = byPid.get(monitor.ppid); p && p.pid > 1; p = byPid.get(p.ppid)) {
    assert.not.ok(p.cmdline.some((a) => a.includes(TSPOD_BIN)) || /node|tspod$/.test(p.comm), `no tspod or node above the monitor: ${p.pid} ${p.cmdline.join(' ')}`);
  }
  const children = all.filter((p) => p.ppid === pids.monitor && p.state !== 'Z').map((p) => p.comm);
  assert.ok(children.every((c) => c === 'probe' || c.startsWith('pasta') || c.startsWith('passt')), `the monitor's children: ${children.join(' ')}`);

  await waitLogs('life', 'ready\n');
  const ps = (await bed.ok(['ps', '--format', '{{.Names}} {{.State}} {{.Status}}'])).stdout;
  assert.match(ps, /^life running Up .* ago\n$/);
  const i = await inspectOne(bed, 'life');
  assert.is(i.State.Status, 'running');
  assert.is(i.State.Running, true);
  assert.is(i.State.Pid, pids.container);
  assert.is(i.State.ConmonPid, pids.monitor);
  assert.is(i.State.FinishedAt, '0001-01-01T00:00:00Z');

  assert.is((await bed.ok(['kill', '-s', 'HUP', 'life'])).stdout, 'life\n');
  await waitLogs('life', 'got SIGHUP\n');
  assert.ok(alive(pids.container), 'SIGHUP was caught, the process still runs');

  const stop = await bed.ok(['stop', 'life']);
  assert.is(stop.stdout, 'life\n');
  assert.is(await logs('life'), 'ready\ngot SIGHUP\ngot SIGTERM\n');
  assert.not.ok(alive(pids.container) || alive(pids.monitor), 'the container and its monitor are gone');
  assert.match((await bed.ok(['ps', '-a', '--format', '{{.Names}} {{.Status}}'])).stdout, /^life Exited \(3\) .* ago\n$/);
  const e = await inspectOne(bed, 'life');
  assert.is(e.State.Status, 'exited');
  assert.is(e.State.Running, false);
  assert.is(e.State.Pid, 0);
  assert.is(e.State.ExitCode, 3);
  assert.ok(Date.parse(e.State.FinishedAt) >= Date.parse(e.State.StartedAt), `${e.State.StartedAt} .. ${e.State.FinishedAt}`);
  assert.is((await bed.ok(['wait', 'life'])).stdout, '3\n', 'wait on an ended container prints its code at once');
  await bed.ok(['rm', 'life']);
  assert.equal(attachSockets(TEST_USER, [id]), []);
});

test('start after stop keeps the writable layer; restart runs the command again; wait prints the code', async () => {
  const script = 'if [ -e /marker ]; then echo again; else echo first > /marker; echo created; fi; exec /probe sleep-trap';
  const id = (await bed.ok(['run', '-d', '--name', 'keep', PROBE, 'sh', '-c', script])).stdout.trim();
  await waitLogs('keep', 'ready');
  await bed.ok(['stop', 'keep']);
  assert.is(fs.readFileSync(path.join(containerDir(bed.store, id), 'upper', 'marker'), 'utf8'), 'first\n');
  assert.is((await bed.ok(['start', 'keep'])).stdout, 'keep\n');
  await waitLogs('keep', 'again\nready\n');
  assert.is(await logs('keep'), 'created\nready\ngot SIGTERM\nagain\nready\n');
  assert.is(await format('keep', '{{.State.Status}} {{.RestartCount}}'), 'running 0');

  assert.is((await bed.ok(['restart', 'keep'])).stdout, `${id}\n`);
  await waitUntil(async () => (await logs('keep')).split('again').length === 3, 10_000, 'the second start after restart');
  assert.is(await format('keep', '{{.State.Status}} {{.RestartCount}}'), 'running 1');

  const waiting = bed.run(['wait', 'keep']);
  await sleep(300);
  await bed.ok(['kill', '-s', 'TERM', 'keep']);
  const w = await waiting;
  assert.is(w.code, 0, show(w));
  assert.is(w.stdout, '3\n');

  const [a, b] = await Promise.all([
    bed.ok(['run', '-d', '--name', 'seven', PROBE, 'sh', '-c', 'sleep 0.5; exit 7']),
    bed.ok(['run', '-d', '--name', 'zero', PROBE, 'true']),
  ]);
  assert.ok(a.stdout && b.stdout);
  assert.is((await bed.ok(['wait', 'seven', 'zero'])).stdout, '7\n0\n');
  await bed.ok(['rm', 'keep', 'seven', 'zero']);
});

test('stop of a process that ignores SIGTERM waits -t 2 seconds, then kills it (137)', async () => {
  await bed.ok(['run', '-d', '--name', 'stubborn', PROBE, '/probe', 'ignore-term']);
  await waitLogs('stubborn', 'ready');
  const [r, ms] = await timed(() => bed.ok(['stop', '-t', '2', 'stubborn']));
  assert.is(r.stdout, 'stubborn\n');
  assert.ok(ms >= 2000 && ms < 6000, `stop took ${ms} ms`);
  assert.is(await format('stubborn', '{{.State.Status}} {{.State.ExitCode}}'), 'exited 137');
  assert.match((await bed.ok(['ps', '-a', '--filter', 'name=stubborn', '--format', '{{.Status}}'])).stdout, /^Exited \(137\) /);
  await bed.ok(['rm', 'stubborn']);
});

test("--stop-signal, and else the image's StopSignal (layered: SIGINT), is what stop sends", async () => {
  await Promise.all([
    bed.ok(['run', '-d', '--name', 'usr1', '--stop-signal', 'SIGUSR1', PROBE, '/probe', 'sleep-trap']),
    bed.ok(['run', '-d', '--name', 'lay', LAYERED, 'trap "echo got INT; exit 7" INT; echo ready; while :; do sleep 0.1; done']),
  ]);
  assert.is(await format('usr1', '{{.Config.StopSignal}}'), '10');
  assert.is(await format('lay', '{{.Config.StopSignal}}'), '2');
  await Promise.all([waitLogs('usr1', 'ready'), waitLogs('lay', 'ready')]);
  const [, layMs] = await timed(() => bed.ok(['stop', 'lay']));
  assert.ok(layMs < 5000, `SIGINT ended it at once (${layMs} ms), no 10 s timeout`);
  assert.is(await logs('lay'), 'ready\ngot INT\n');
  assert.is(await format('lay', '{{.State.ExitCode}}'), '7');
  await bed.ok(['stop', '-t', '1', 'usr1']);
  assert.is(await logs('usr1'), 'ready\ngot SIGUSR1\n', 'SIGUSR1, not SIGTERM; then SIGKILL after the timeout');
  assert.is(await format('usr1', '{{.State.ExitCode}}'), '137');
  await bed.ok(['rm', 'usr1', 'lay']);
});

test('kill -9 of a monitor: ps shows the container exited (never running), its process is gone, rm cleans up', async () => {
  const id = (await bed.ok(['run', '-d', '--name', 'orphan', PROBE, '/probe', 'sleep', '600'])).stdout.trim();
  const pids = pidFile(bed.store, id);
  process.kill(pids.monitor, 'SIGKILL');
  for (let i = 0; i < 4; i++) {
    assert.is((await bed.ok(['ps', '-a', '--format', '{{.Names}} {{.State}}'])).stdout, 'orphan exited\n', `ps #${i}`);
  }
  assert.is(await format('orphan', '{{.State.Status}} {{.State.Running}}'), 'exited false');
  await waitUntil(() => !alive(pids.container), 5_000, 'the container process to die with its monitor');
  assert.is((await bed.ok(['ps', '-q'])).stdout, '');
  await bed.ok(['rm', 'orphan']);
  assert.equal(attachSockets(TEST_USER, [id]), [], "the dead monitor's socket is removed with the container");
  assert.equal(leftovers(bed.store), NOTHING_LEFT);
});

test('20 detached containers started, listed and removed concurrently: the store stays consistent', async () => {
  const names = Array.from({ length: 20 }, (_, i) => `c${i}`);
  const listings: Promise<string>[] = [];
  const started = names.map((n) => bed.run(['run', '-d', '--name', n, PROBE, '/probe', 'sleep', '300']));
  for (let i = 0; i < 4; i++) listings.push(sleep(i * 150).then(async () => (await bed.ok(['ps', '-a', '--format', 'json'])).stdout));
  const rs = await Promise.all(started);
  rs.forEach((r, i) => assert.is(r.code, 0, `${names[i]}: ${show(r)}`));
  for (const text of await Promise.all(listings)) {
    for (const c of JSON.parse(text) as { Id: string; Names: string[]; State: string }[]) {
      assert.match(c.Id, /^[0-9a-f]{64}$/);
      assert.ok(names.includes(c.Names[0]), `a listed container is one of ours: ${c.Names[0]}`);
      assert.ok(['created', 'running'].includes(c.State), `${c.Names[0]} ${c.State}`);
    }
  }
  const ids = rs.map((r) => r.stdout.trim());
  const running = lines((await bed.ok(['ps', '--format', '{{.ID}} {{.Names}} {{.State}}'])).stdout);
  assert.is(running.length, 20);
  assert.equal(new Set(running.map((l) => l.split(' ')[0])).size, 20);
  assert.ok(running.every((l) => l.endsWith(' running')), running.join('\n'));
  const pids = ids.map((id) => pidFile(bed.store, id));

  const removed = names.map((n) => bed.run(['rm', '-f', n]));
  const during = bed.ok(['ps', '-a', '--format', '{{.Names}}']);
  const rms = await Promise.all(removed);
  rms.forEach((r, i) => {
    assert.is(r.code, 0, `rm -f ${names[i]}: ${show(r)}`);
    assert.is(r.stdout, `${names[i]}\n`);
  });
  for (const n of lines((await during).stdout)) assert.ok(names.includes(n));
  assert.is((await bed.ok(['ps', '-a', '-q'])).stdout, '');
  assert.equal(leftovers(bed.store), NOTHING_LEFT);
  await waitUntil(() => pids.every((p) => !alive(p.container) && !alive(p.monitor)), 5_000, 'every container process and monitor to end');
  assert.equal(attachSockets(TEST_USER, ids), []);
});

test('run -d --rm: the container is gone once it ends; stop of one removes it too', async () => {
  const [a, b] = await Promise.all([
    bed.ok(['run', '-d', '--rm', '--name', 'brief', PROBE, '/probe', 'exit', '0']),
    bed.ok(['run', '-d', '--rm', '--name', 'stopped', PROBE, '/probe', 'sleep-trap']),
  ]);
  const briefId = a.stdout.trim();
  // The monitor removes an ended --rm container itself, right after it ends.
  await waitUntil(() => !fs.existsSync(containerDir(bed.store, briefId)), 5_000, 'brief to end and be removed');
  assert.is((await bed.ok(['ps', '-a', '--format', '{{.Names}}'])).stdout, 'stopped\n', 'an ended --rm container is not listed');
  assert.not.ok(fs.existsSync(containerDir(bed.store, briefId)), 'and not on disk');
  await waitLogs('stopped', 'ready');
  await bed.ok(['stop', 'stopped']);
  assert.not.ok(fs.existsSync(containerDir(bed.store, b.stdout.trim())));
  assert.equal(leftovers(bed.store), NOTHING_LEFT);
});

test('run -d --rm of containers that end at once, eight together: every one is removed, nothing is left', async () => {
  // A container that ends before run -d has recorded its start: the monitor waits for tspod
  // (the hold pipe) and only then removes it, so no state file brings its directory back.
  const names = Array.from({ length: 8 }, (_, i) => `quick${i}`);
  const rs = await Promise.all(names.map((n) => bed.ok(['run', '-d', '--rm', '--name', n, PROBE, '/probe', 'exit', '0'])));
  const ids = rs.map((r) => r.stdout.trim());
  for (const id of ids) assert.match(id, /^[0-9a-f]{64}$/);
  await waitUntil(() => ids.every((id) => !fs.existsSync(containerDir(bed.store, id))), 15_000, 'all eight to be removed');
  assert.is((await bed.ok(['ps', '-a', '--format', '{{.Names}}'])).stdout, '');
  assert.equal(leftovers(bed.store), NOTHING_LEFT);
});

test('create, then start; a start that fails says why (127) and leaves the container Created', async () => {
  const id = (await bed.ok(['create', '--name', 'later', PROBE, '/probe', 'sleep-trap'])).stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.is(await format('later', '{{.State.Status}}'), 'created');
  assert.is((await bed.ok(['start', 'later'])).stdout, 'later\n');
  await waitLogs('later', 'ready');
  assert.is(await format('later', '{{.State.Status}}'), 'running');
  assert.is((await bed.ok(['start', 'later'])).stdout, 'later\n', 'starting a running container is fine');
  await bed.ok(['rm', '-f', 'later']);

  const bad = await bed.run(['run', '-d', '--name', 'broken', PROBE, '/nonexistent']);
  assertOneLineError(bad, /^Error: executable file `\/nonexistent` not found in \$PATH: No such file or directory$/, 127);
  assert.is((await bed.ok(['ps', '-a', '--format', '{{.Names}} {{.Status}}'])).stdout, 'broken Created\n');
  const again = await bed.run(['start', 'broken']);
  assertOneLineError(again, /^Error: executable file `\/nonexistent` not found/, 127);
  await bed.ok(['rm', 'broken']);
});

test('a missing container: one line and 125 for every verb; rm exits 1 as podman does; rm -i ignores it', async () => {
  const verbs: [string[], RegExp][] = [
    [['stop', 'nosuch'], /^Error: no container with name or ID "nosuch" found: no such container$/],
    [['start', 'nosuch'], /^Error: no container with name or ID "nosuch" found: no such container$/],
    [['restart', 'nosuch'], /^Error: no container with name or ID "nosuch" found: no such container$/],
    [['kill', 'nosuch'], /^Error: no container with name or ID "nosuch" found: no such container$/],
    [['wait', 'nosuch'], /^Error: no container with name or ID "nosuch" found: no such container$/],
    [['logs', 'nosuch'], /^Error: no container with name or ID "nosuch" found: no such container$/],
    [['inspect', 'nosuch'], /^Error: no such object: "nosuch"$/],
    [['container', 'inspect', 'nosuch'], /^Error: no such container nosuch$/],
  ];
  const rs = await Promise.all(verbs.map(([args]) => bed.run(args)));
  rs.forEach((r, i) => assertOneLineError(r, verbs[i][1], 125));
  const rm = await bed.run(['rm', 'nosuch']);
  assertOneLineError(rm, /^Error: no container with name or ID "nosuch" found: no such container$/, 1);
  const ignored = await bed.run(['rm', '-i', 'nosuch']);
  assert.is(ignored.code, 0, show(ignored));
  assert.is(ignored.stderr, '');
});

test.run();
