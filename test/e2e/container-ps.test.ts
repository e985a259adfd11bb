// `ps` as podman prints it (the columns of test/reference/podman-4.3.1/ps-a.txt, -a, -q,
// --no-trunc, filters, JSON and templates), and removal: rm, rm -f of a running container,
// container prune, and rmi of an image a container uses.

import * as fs from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as path from 'node:path';
import { fixtures, REFERENCE_DIR, TEST_USER } from '../lib';
import {
  alive,
  BUSYBOX,
  closeBed,
  containerDir,
  freePort,
  leftovers,
  lines,
  NOTHING_LEFT,
  openBed,
  pidFile,
  PROBE,
  waitUntil,
  type Bed,
} from './container-helpers';
import { assertOneLineError, show } from './image-helpers';

let bed: Bed;
let port: number;
const ids: Record<string, string> = {};
let t0: number;

const HEADERS = ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'];

test.before(async () => {
  bed = await openBed(TEST_USER, [PROBE]);
  port = await freePort();
  t0 = Math.floor(Date.now() / 1000);
  // The reference's three containers, oldest first: an exited one, a created one, a running one.
  const done = await bed.run(['run', '--name', 'done', PROBE, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.is(done.code, 3, show(done));
  ids.done = (await bed.ok(['inspect', '--format', '{{.Id}}', 'done'])).stdout.trim();
  ids.made = (await bed.ok(['create', '--name', 'made', PROBE, 'echo', 'hi'])).stdout.trim();
  ids.web = (await bed.ok(['run', '-d', '--name', 'web', '-p', `127.0.0.1:${port}:80`, PROBE, 'httpd', '-f', '-p', '80'])).stdout.trim();
});

test.after(async () => {
  await closeBed(bed);
});

/** Splits a table at the header's column starts (podman's tabwriter pads with two spaces). */
function table(out: string): Record<string, string>[] {
  const [header, ...rows] = out.split('\n').filter(Boolean);
  const starts = HEADERS.map((h) => header.indexOf(h));
  assert.ok(starts.every((s, i) => s >= 0 && (i === 0 || s > starts[i - 1])), `header: ${header}`);
  assert.is(header.replace(/ {2,}/g, '|').trim(), HEADERS.join('|'));
  return rows.map((row) =>
    Object.fromEntries(HEADERS.map((h, i) => [h, row.slice(starts[i], i + 1 < starts.length ? starts[i + 1] : undefined).trim()])),
  );
}

const ago = /^(Less than a second|\d+ seconds?|About a minute|\d+ minutes) ago$/;

test('ps shows the running container in podman’s columns; ps -a all three, newest first', async () => {
  const running = table((await bed.ok(['ps'])).stdout);
  assert.is(running.length, 1);
  const all = table((await bed.ok(['ps', '-a'])).stdout);
  assert.equal(all.map((r) => r.NAMES), ['web', 'made', 'done']);
  const [web, made, done] = all;
  // The same row (the times may have moved on a second between the two calls).
  const still = (r: Record<string, string>) => ({ ...r, CREATED: '', STATUS: r.STATUS.replace(/ .*/, '') });
  assert.equal(still(running[0]), still(web));
  assert.equal([web['CONTAINER ID'], made['CONTAINER ID'], done['CONTAINER ID']], [ids.web, ids.made, ids.done].map((i) => i.slice(0, 12)));
  for (const r of all) {
    assert.is(r.IMAGE, 'localhost:5000/probe:latest');
    assert.match(r.CREATED, ago);
  }
  assert.is(web.COMMAND, 'httpd -f -p 80');
  assert.is(made.COMMAND, 'echo hi');
  assert.is(done.COMMAND, 'sh -c echo out; e...', 'truncated as podman does');
  assert.match(web.STATUS, /^Up (Less than a second|\d+ seconds?) ago$/);
  assert.is(made.STATUS, 'Created');
  assert.match(done.STATUS, /^Exited \(3\) (Less than a second|\d+ seconds?) ago$/);
  assert.is(web.PORTS, `127.0.0.1:${port}->80/tcp`);
  assert.is(made.PORTS, '');
  assert.is(done.PORTS, '');
});

test('-q, -aq and --no-trunc', async () => {
  assert.is((await bed.ok(['ps', '-q'])).stdout, `${ids.web.slice(0, 12)}\n`);
  assert.is((await bed.ok(['ps', '-aq'])).stdout, [ids.web, ids.made, ids.done].map((i) => i.slice(0, 12) + '\n').join(''));
  assert.is((await bed.ok(['ps', '-aq', '--no-trunc'])).stdout, [ids.web, ids.made, ids.done].map((i) => i + '\n').join(''));
  const full = table((await bed.ok(['ps', '-a', '--no-trunc'])).stdout);
  assert.equal(full.map((r) => r['CONTAINER ID']), [ids.web, ids.made, ids.done]);
  assert.is(full[2].COMMAND, 'sh -c echo out; echo err >&2; exit 3');
});

test('--filter status=, name=, id=, exited=; a bad status is an error', async () => {
  const names = async (...args: string[]) => lines((await bed.ok(['ps', '--format', '{{.Names}}', ...args])).stdout);
  await bed.ok(['create', '--name', 'job-a', PROBE, 'true']);
  await bed.ok(['create', '--name', 'job-b', PROBE, 'true']);
  assert.equal(await names('--filter', 'status=exited'), ['done'], 'a status filter looks at every container');
  assert.equal(await names('--filter', 'status=created'), ['job-b', 'job-a', 'made']);
  assert.equal(await names('--filter', 'status=running'), ['web']);
  assert.equal(await names('-a', '--filter', 'name=job'), ['job-b', 'job-a']);
  assert.equal(await names('-a', '--filter', 'name=^job-a$'), ['job-a']);
  assert.equal(await names('-a', '--filter', 'name=job', '--filter', 'name=done'), ['job-b', 'job-a', 'done'], 'values of one key are alternatives');
  assert.equal(await names('-a', '--filter', 'name=job', '--filter', 'status=exited'), [], 'different keys must all match');
  assert.equal(await names('-a', '--filter', `id=${ids.made.slice(0, 8)}`), ['made']);
  assert.equal(await names('-a', '--filter', 'exited=3'), ['done']);
  const bad = await bed.run(['ps', '--filter', 'status=bogus']);
  assertOneLineError(bad, /^Error: bogus is not a valid status$/, 125);
  await bed.ok(['rm', 'job-a', 'job-b']);
});

test('--format json: podman’s keys in podman’s order, and the values', async () => {
  const ref = JSON.parse(fs.readFileSync(path.join(REFERENCE_DIR, 'ps-a.json'), 'utf8')) as Record<string, unknown>[];
  const list = JSON.parse((await bed.ok(['ps', '-a', '--format', 'json'])).stdout) as Record<string, any>[];
  assert.equal(list.map((c) => c.Names), [['web'], ['made'], ['done']]);
  for (const c of list) assert.equal(Object.keys(c), Object.keys(ref[0]), `keys of ${c.Names}`);
  const [web, made, done] = list;
  const imageId = fixtures().images.probe.imageId;
  const now = Math.floor(Date.now() / 1000);
  for (const c of list) {
    assert.is(c.Image, 'localhost:5000/probe:latest');
    assert.is(c.ImageID, imageId);
    assert.is(c.Labels, null);
    assert.equal(c.Mounts, []);
    assert.is(c.AutoRemove, false);
    assert.ok(c.Created >= t0 && c.Created <= now, `Created ${c.Created}`);
    assert.match(c.CreatedAt, ago);
  }
  assert.equal([web.Id, made.Id, done.Id], [ids.web, ids.made, ids.done]);
  assert.equal(web.Command, ['httpd', '-f', '-p', '80']);
  assert.equal(done.Command, ['sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal([web.State, made.State, done.State], ['running', 'created', 'exited']);
  assert.equal([web.Exited, made.Exited, done.Exited], [false, false, true]);
  assert.equal([web.ExitCode, made.ExitCode, done.ExitCode], [0, 0, 3]);
  assert.is(made.Status, 'Created');
  assert.is(web.Pid, pidFile(bed.store, ids.web).container);
  assert.equal([made.Pid, done.Pid], [0, 0]);
  assert.equal([web.ExitedAt, made.ExitedAt], [-62135596800, -62135596800]);
  assert.ok(done.ExitedAt >= done.StartedAt && done.StartedAt >= t0, `${done.StartedAt} .. ${done.ExitedAt}`);
  assert.is(made.StartedAt, -62135596800);
  assert.equal(web.Ports, [{ host_ip: '127.0.0.1', container_port: 80, host_port: port, range: 1, protocol: 'tcp' }]);
  assert.equal([made.Ports, done.Ports], [null, null]);
});

test('--format templates, table headers, --noheading, -n and -l', async () => {
  const tpl = await bed.ok(['ps', '-a', '--format', '{{.ID}} {{.Names}} {{.State}} {{.ExitCode}} {{.Image}}']);
  assert.equal(lines(tpl.stdout), [
    `${ids.web.slice(0, 12)} web running 0 localhost:5000/probe:latest`,
    `${ids.made.slice(0, 12)} made created 0 localhost:5000/probe:latest`,
    `${ids.done.slice(0, 12)} done exited 3 localhost:5000/probe:latest`,
  ]);
  const tbl = await bed.ok(['ps', '-a', '--format', 'table {{.Names}}\t{{.Status}}']);
  const [head, ...rows] = lines(tbl.stdout);
  assert.equal(head.split(/ {2,}/), ['NAMES', 'STATUS']);
  assert.equal(rows.map((r) => r.split(/ {2,}/)[0]), ['web', 'made', 'done']);
  const noHead = await bed.ok(['ps', '-a', '--noheading']);
  assert.is(lines(noHead.stdout).length, 3);
  assert.not.match(noHead.stdout, /CONTAINER ID/);
  assert.equal(lines((await bed.ok(['ps', '-n', '2', '--format', '{{.Names}}'])).stdout), ['web', 'made']);
  assert.equal(lines((await bed.ok(['ps', '-l', '--format', '{{.Names}}'])).stdout), ['web']);
});

test('rm of an exited container frees its name; rm of a running one needs -f (exit 2); rm -f kills it', async () => {
  const webPids = pidFile(bed.store, ids.web);
  const r = await bed.run(['rm', 'web']);
  assertOneLineError(r, new RegExp(`^Error: cannot remove container ${ids.web} as it is running - running or paused containers cannot be removed without force: container state improper$`), 2);
  assert.ok(alive(webPids.container), 'refused: it still runs');

  assert.is((await bed.ok(['rm', 'done'])).stdout, 'done\n');
  assert.not.ok(fs.existsSync(containerDir(bed.store, ids.done)));
  const again = await bed.run(['run', '--name', 'done', PROBE, '/probe', 'exit', '4']);
  assert.is(again.code, 4, `the name is free again: ${show(again)}`);

  assert.is((await bed.ok(['rm', '-f', 'web'])).stdout, 'web\n');
  await waitUntil(() => !alive(webPids.container) && !alive(webPids.monitor), 5_000, 'web and its monitor to end');
  assert.not.ok(fs.existsSync(containerDir(bed.store, ids.web)));

  const mixed = await bed.run(['rm', 'nosuch', 'done']);
  assert.is(mixed.code, 1, show(mixed));
  assert.is(mixed.stdout, 'done\n', 'the one that exists is removed');
  assert.is(mixed.stderr, 'Error: no container with name or ID "nosuch" found: no such container\n');
});

test('container prune removes what does not run, prints the IDs, keeps the running; it asks first without -f', async () => {
  const running = (await bed.ok(['run', '-d', '--name', 'keeps', PROBE, '/probe', 'sleep', '300'])).stdout.trim();
  const exited = (await bed.ok(['run', '-d', '--name', 'ended', PROBE, 'true'])).stdout.trim();
  await bed.ok(['wait', 'ended']);
  const no = await bed.run(['container', 'prune'], { input: 'n\n' });
  assert.is(no.code, 0, show(no));
  assert.match(no.stderr, /WARNING! This will remove all non running containers\./);
  assert.is(lines((await bed.ok(['ps', '-aq'])).stdout).length, 3, 'answered no: nothing removed');
  const yes = await bed.ok(['container', 'prune', '-f']);
  assert.equal(lines(yes.stdout).sort(), [exited, ids.made].sort());
  assert.equal(lines((await bed.ok(['ps', '-a', '--format', '{{.Names}}'])).stdout), ['keeps']);
  await bed.ok(['rm', '-f', 'keeps']);
  assert.ok(running);
  assert.equal(leftovers(bed.store), NOTHING_LEFT);
});

test('rmi refuses an image a container uses (exit 2); rmi -f removes the container, and the shared layers stay', async () => {
  await bed.ok(['pull', '-q', BUSYBOX]);
  const user = (await bed.ok(['create', '--name', 'bbuser', BUSYBOX, 'true'])).stdout.trim();
  const r = await bed.run(['rmi', BUSYBOX]);
  assertOneLineError(r, new RegExp(`^Error: image used by ${user}: image is in use by a container: consider listing external containers and force-removing image\\.?$`), 2);
  const f = await bed.ok(['rmi', '-f', BUSYBOX]);
  assert.match(f.stdout, new RegExp(`Deleted: ${fixtures().images.busybox.imageId}`));
  assert.is((await bed.ok(['ps', '-aq'])).stdout, '', 'the container went with the image');
  assert.not.ok(fs.existsSync(containerDir(bed.store, user)));
  assert.is((await bed.ok(['run', '--rm', PROBE, '/probe', 'exit', '0'])).code, 0, 'probe, sharing the busybox layer, still runs');
});

test.run();
