// Volumes: volume create, ls, inspect, rm, prune; named volumes made on first use by run -v;
// anonymous ones going with their container; files of subordinate ids inside them removed too.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NOSUB_USER, TEST_USER, userInfo } from '../lib';
import { closeBed, LAYERED, leftovers, lines, NOTHING_LEFT, openBed, PROBE, type Bed } from './container-helpers';
import { assertOneLineError, show } from './image-helpers';

let bed: Bed;

test.before(async () => {
  bed = await openBed(TEST_USER, [PROBE, LAYERED]);
});

test.after(async () => {
  await closeBed(bed);
});

const volumesDir = () => path.join(bed.store, 'volumes');
const names = async (...flags: string[]) => lines((await bed.ok(['volume', 'ls', '-q', ...flags])).stdout);

test('volume create: prints the name; a random 64-hex one without a name; a taken or invalid name is one line and 125', async () => {
  assert.is((await bed.ok(['volume', 'create', 'data'])).stdout, 'data\n');
  assert.ok(fs.statSync(path.join(volumesDir(), 'data', '_data')).isDirectory());
  const anon = (await bed.ok(['volume', 'create', '-l', 'team=web', '--label', 'tier'])).stdout.trim();
  assert.match(anon, /^[0-9a-f]{64}$/);
  assertOneLineError(await bed.run(['volume', 'create', 'data']), /^Error: volume with name data already exists: volume already exists$/);
  assert.is((await bed.ok(['volume', 'create', '--ignore', 'data'])).stdout, 'data\n', '--ignore: an existing one is fine');
  assertOneLineError(await bed.run(['volume', 'create', 'no/slash']), /^Error: volume name "no\/slash" is invalid: names must match/);
  assertOneLineError(await bed.run(['volume', 'create', '-d', 'nfs', 'x']), /^Error: volume driver "nfs" is not supported/);
  assert.equal(await names(), [anon, 'data'].sort());

  // ls: podman's columns, templates, JSON, filters
  const table = (await bed.ok(['volume', 'ls'])).stdout;
  assert.equal(lines(table), ['DRIVER      VOLUME NAME', ...[anon, 'data'].sort().map((n) => `local       ${n}`)]);
  assert.is((await bed.ok(['volume', 'ls', '--noheading', '--filter', 'name=dat', '--format', '{{.Name}} {{.Driver}} {{.Mountpoint}}'])).stdout, `data local ${path.join(volumesDir(), 'data', '_data')}\n`);
  assert.equal(await names('--filter', 'label=team=web'), [anon]);
  assert.equal(await names('--filter', 'label=tier'), [anon]);
  assert.equal(await names('--filter', 'label=team=db'), []);
  const json = JSON.parse((await bed.ok(['volume', 'ls', '--format', 'json'])).stdout) as Array<Record<string, unknown>>;
  assert.equal(json.map((v) => v.Name), [anon, 'data'].sort());
  assertOneLineError(await bed.run(['volume', 'ls', '--filter', 'colour=red']), /^Error: invalid filter "colour"$/);

  // inspect: podman's fields
  const [d] = JSON.parse((await bed.ok(['volume', 'inspect', 'data'])).stdout) as Array<Record<string, any>>;
  assert.equal(Object.keys(d), ['Name', 'Driver', 'Mountpoint', 'CreatedAt', 'Labels', 'Scope', 'Options', 'MountCount', 'NeedsCopyUp', 'NeedsChown']);
  assert.is(d.Name, 'data');
  assert.is(d.Driver, 'local');
  assert.is(d.Mountpoint, path.join(volumesDir(), 'data', '_data'));
  assert.ok(Math.abs(Date.parse(d.CreatedAt) - Date.now()) < 120_000, d.CreatedAt);
  assert.equal(JSON.parse((await bed.ok(['volume', 'inspect', '--format', '{{json .Labels}}', anon])).stdout), { team: 'web', tier: '' });
  const missing = await bed.run(['volume', 'inspect', 'data', 'nosuch']);
  assertOneLineError(missing, /^Error: no such volume nosuch$/);
  assert.match(missing.stdout, /"Name": "data"/, 'the volumes that exist are still printed');

  // The generic inspect finds volumes too, as podman's does.
  assert.is((await bed.ok(['inspect', '--format', '{{.Name}} {{.Driver}}', 'data'])).stdout, 'data local\n');
  assert.is((await bed.ok(['inspect', '--type', 'volume', '--format', '{{.Mountpoint}}', 'data'])).stdout, `${d.Mountpoint}\n`);
  assertOneLineError(await bed.run(['inspect', '--type', 'image', 'data']), /^Error: no such object: "data"$/);
  assert.is((await bed.ok(['volume', 'rm', 'data', anon])).stdout, `data\n${anon}\n`);
  assert.equal(await names(), []);
  assert.equal(fs.readdirSync(volumesDir()), []);
});

test("a named volume outlives its containers and keeps its files' owners; one in use is kept unless rm -f", async () => {
  // -v NAME:/dir makes the volume on first use.
  await bed.ok(['run', '--rm', '--network', 'none', '-v', 'keep:/d', PROBE, 'sh', '-c', 'echo one > /d/root-file && mkdir /d/sub && echo two > /d/sub/f && chown -R 1000:1000 /d/sub']);
  assert.equal(await names(), ['keep']);
  const r = await bed.ok(['run', '--rm', '--network', 'none', '-v', 'keep:/d:ro', PROBE, 'sh', '-c', 'cat /d/root-file /d/sub/f; stat -c "%u:%g" /d/root-file /d/sub/f']);
  assert.equal(lines(r.stdout), ['one', 'two', '0:0', '1000:1000'], 'what the first container wrote, with its owners');
  const data = path.join(volumesDir(), 'keep', '_data');
  const u = userInfo(TEST_USER);
  assert.is(fs.statSync(path.join(data, 'root-file')).uid, u.uid, "the container's root is the user on the host");
  assert.is(fs.statSync(path.join(data, 'sub', 'f')).uid, u.subuid[0].start + 999, 'uid 1000 is a subordinate uid on the host');

  const id = (await bed.ok(['create', '--name', 'holder', '-v', 'keep:/d', PROBE, 'true'])).stdout.trim();
  assert.equal(await names('--filter', 'dangling=true'), []);
  assert.equal(await names('--filter', 'dangling=false'), ['keep']);
  const refused = await bed.run(['volume', 'rm', 'keep']);
  assertOneLineError(refused, new RegExp(`^Error: volume keep is being used by the following container\\(s\\): ${id}: volume is being used$`), 2);
  assert.ok(fs.existsSync(path.join(data, 'sub', 'f')), 'nothing removed');
  assertOneLineError(await bed.run(['volume', 'rm', 'nosuch']), /^Error: no volume with name "nosuch" found: no such volume$/, 1);

  assert.is((await bed.ok(['volume', 'rm', '-f', 'keep'])).stdout, 'keep\n');
  assert.is((await bed.ok(['ps', '-a', '-q'])).stdout, '', 'rm -f removed the container that used it');
  assert.equal(fs.readdirSync(volumesDir()), [], "the volume is gone, files of subordinate ids included");
  assert.equal(leftovers(bed.store), NOTHING_LEFT);
});

test('anonymous volumes go with their container (rm -v, --rm); prune removes what no container uses, after asking', async () => {
  const id = (await bed.ok(['create', '--name', 'anon', '-v', '/scratch', PROBE, 'true'])).stdout.trim();
  const [anon] = await names();
  assert.match(anon, /^anon-[0-9a-f]+$/);
  const mount = JSON.parse((await bed.ok(['inspect', '--format', '{{json .Mounts}}', 'anon'])).stdout) as Array<Record<string, string>>;
  assert.equal(
    mount.map((m) => [m.Type, m.Name, m.Source, m.Destination, m.Driver]),
    [['volume', anon, path.join(volumesDir(), anon, '_data'), '/scratch', 'local']],
    'podman shows a volume as type volume, with its name',
  );
  await bed.ok(['rm', '-v', id]);
  assert.equal(await names(), [], 'rm -v removed its anonymous volume');

  await bed.ok(['volume', 'create', 'unused']);
  await bed.ok(['volume', 'create', '-l', 'keep=1', 'labelled']);
  await bed.ok(['create', '--name', 'user', '-v', 'used:/d', PROBE, 'true']);
  const no = await bed.run(['volume', 'prune'], { input: 'n\n' });
  assert.is(no.code, 0, show(no));
  assert.match(no.stderr, /WARNING! This will remove all volumes not used by at least one container\. The following volumes will be removed:\nlabelled\nunused\nAre you sure you want to continue\? \[y\/N\] /);
  assert.equal(await names(), ['labelled', 'unused', 'used'], 'answered no: nothing removed');
  assert.is((await bed.ok(['volume', 'prune', '-f', '--filter', 'label=keep=1'])).stdout, 'labelled\n');
  const yes = await bed.ok(['volume', 'prune'], { input: 'y\n' });
  assert.is(yes.stdout, 'unused\n');
  assert.equal(await names(), ['used'], 'the volume a container uses stays');
  await bed.ok(['rm', 'user']);
  assert.is((await bed.ok(['volume', 'rm', '--all'])).stdout, 'used\n');
  assert.equal(fs.readdirSync(volumesDir()), []);
});

test("a volume's first use copies the image's files in, with owners, modes and symlinks; never again after; nocopy", async () => {
  const sh = (script: string, ...flags: string[]) => bed.ok(['run', '--rm', '--network', 'none', ...flags, LAYERED, script]);
  const first = await sh(
    'cat /opt/app/config.txt; stat -c "%n %u:%g %a" /home/user/notes.txt /usr/local/bin/suid-tool; readlink /usr/local/bin/tool-sym; cat /usr/local/bin/tool-hard',
    '-v', 'app:/opt/app', '-v', 'home:/home/user', '-v', 'bin:/usr/local/bin',
  );
  assert.equal(lines(first.stdout), ['answer=43', '/home/user/notes.txt 1000:1000 640', '/usr/local/bin/suid-tool 0:0 4755', 'tool', '#!/bin/sh', 'echo tool'], show(first));
  const data = (n: string) => path.join(volumesDir(), n, '_data');
  const u = userInfo(TEST_USER);
  assert.is(fs.statSync(path.join(data('home'), 'notes.txt')).uid, u.subuid[0].start + 999, "uid 1000's file, on the host");
  assert.ok(fs.lstatSync(path.join(data('bin'), 'tool-sym')).isSymbolicLink());
  assert.not.ok(fs.existsSync(path.join(volumesDir(), 'app', 'copyup')), 'copied once: the marker is gone');

  // What a container changes stays; an emptied volume is not filled again.
  await sh('echo changed > /opt/app/config.txt; rm /home/user/notes.txt /home/user/.profile', '-v', 'app:/opt/app', '-v', 'home:/home/user');
  const again = await sh('cat /opt/app/config.txt; ls -A /home/user | wc -l', '-v', 'app:/opt/app', '-v', 'home:/home/user');
  assert.equal(lines(again.stdout), ['changed', '0']);

  // An absolute symlink of the image is copied as a symlink: nothing of the host is read.
  await sh('true', '-v', 'etc:/etc');
  assert.is(fs.readlinkSync(path.join(data('etc'), 'app.conf')), '/opt/app/config.txt');
  assert.is(fs.readFileSync(path.join(data('etc'), 'layered-release'), 'utf8'), 'layered 1\n');

  // Only the image is copied: a volume over another file system (sysfs here, /proc or /dev, where
  // an image's VOLUME or a symlink of it could point) starts empty.
  const sys = await sh('ls -A /sys/kernel | wc -l', '-v', 'sysv:/sys/kernel');
  assert.equal(lines(sys.stdout), ['0']);
  assert.equal(fs.readdirSync(data('sysv')), [], 'nothing of /sys copied');
  const none = await sh('ls -A /opt/app | wc -l', '-v', 'bare:/opt/app:nocopy');
  assert.equal(lines(none.stdout), ['0'], 'nocopy: nothing copied');
  const mountNone = await sh('ls -A /opt/app | wc -l', '--mount', 'type=volume,source=bare2,target=/opt/app,volume-nocopy');
  assert.equal(lines(mountNone.stdout), ['0'], '--mount volume-nocopy');
  await bed.ok(['volume', 'rm', 'app', 'home', 'bin', 'etc', 'sysv', 'bare', 'bare2']);
  assert.equal(fs.readdirSync(volumesDir()), []);
});

test("an image's VOLUME gets an anonymous volume, unless a mount of the user's covers it; --rm and rm -v remove it", async () => {
  await bed.ok(['create', '--name', 'vol', LAYERED, 'true']);
  const [anon] = await names();
  assert.match(anon, /^anon-[0-9a-f]+$/);
  const mounts = JSON.parse((await bed.ok(['inspect', '--format', '{{json .Mounts}}', 'vol'])).stdout) as Array<Record<string, string>>;
  assert.equal(mounts.map((m) => [m.Type, m.Name, m.Destination]), [['volume', anon, '/data']]);
  await bed.ok(['rm', '-v', 'vol']);
  assert.equal(await names(), []);

  await bed.ok(['create', '--name', 'mine', '-v', 'mydata:/data/', LAYERED, 'true']);
  assert.equal(await names(), ['mydata'], "the user's volume takes the VOLUME's place");
  await bed.ok(['rm', 'mine']);
  await bed.ok(['volume', 'rm', 'mydata']);

  const r = await bed.ok(['run', '--rm', '--network', 'none', LAYERED, 'echo kept > /data/f && cat /data/f']);
  assert.is(r.stdout, 'kept\n');
  assert.equal(await names(), [], '--rm removed the anonymous volume');
  assert.equal(leftovers(bed.store), NOTHING_LEFT);
});

test('copy-up with the single-uid fallback (no subordinate ids): the files are copied, owned by the user', async () => {
  const nosub = await openBed(NOSUB_USER, [LAYERED]);
  try {
    const r = await nosub.ok(['run', '--rm', '--network', 'none', '-v', 'home:/home/user', LAYERED, 'cat /home/user/notes.txt; stat -c %u /home/user/notes.txt']);
    assert.equal(lines(r.stdout), ['owned by 1000', '0'], 'ownership collapsed to the one mapped id, as in the layers');
    const file = path.join(nosub.store, 'volumes', 'home', '_data', 'notes.txt');
    assert.is(fs.statSync(file).uid, userInfo(NOSUB_USER).uid);
    assert.is(fs.statSync(file).mode & 0o777, 0o640, 'the mode is kept');
  } finally {
    await closeBed(nosub);
  }
});

test('completion offers the volumes of the store after volume rm', async () => {
  await bed.ok(['volume', 'create', 'done-data']);
  await bed.ok(['volume', 'create', 'other']);
  const r = await bed.ok(['__complete', '--', 'volume', 'rm', 'd']);
  assert.is(r.stdout, 'done-data\n:4\n');
  await bed.ok(['volume', 'rm', 'done-data', 'other']);
});

test('volume is a noun of tspod --help; volume --help lists its commands', async () => {
  assert.match((await bed.ok(['--help'])).stdout, /\n {2}volume +Manage volumes\n/);
  const help = (await bed.ok(['volume', '--help'])).stdout;
  for (const v of ['create', 'inspect', 'ls', 'prune', 'rm']) assert.match(help, new RegExp(`\\n {2}${v} +\\S`), v);
  assert.match((await bed.ok(['volume', 'ls', '--help'])).stdout, /Usage:\n {2}tspod volume ls /);
});

test.run();
