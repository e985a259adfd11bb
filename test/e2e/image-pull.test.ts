// `tspod pull` as the unprivileged users: every reference form, each fixture unpacked and checked
// on disk against fixtures.json (owners mapped through the user's subordinate ids, whiteouts,
// opaque directories, hardlinks, symlinks, setuid, mtimes), the same files seen from inside
// `tspod unshare`, layer dedupe, platforms, the single-uid fallback, and the errors a user meets.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fileFact, fixtures, freshStore, NOSUB_USER, REGISTRY, removeStore, RunResult, TEST_USER, tspod, TSPOD_BIN, userInfo, withPty } from '../lib';
import {
  assertOneLineError,
  compareTree,
  FIXTURE_MTIME,
  hostArch,
  hostIds,
  isWhiteout,
  layerDiff,
  layerDir,
  lines,
  opaqueDirs,
  resolveOverlay,
  show,
  storedImages,
  storedLayers,
  tmpEntries,
} from './image-helpers';

const F = () => fixtures().images;

/** A store of `user` that a whole suite shares, with tspod bound to it. */
function sharedStore(user: string) {
  let dir = '';
  return {
    get dir() {
      return dir;
    },
    async open() {
      dir = await freshStore(user);
    },
    close() {
      if (dir) removeStore(dir);
    },
    run(args: string[]): Promise<RunResult> {
      return tspod(user, args, { store: dir });
    },
  };
}

function ok(r: RunResult): RunResult {
  assert.is(r.code, 0, show(r));
  return r;
}

// ---------------------------------------------------------------------------------------------
const refs = suite('pull: reference forms');
const rs = sharedStore(TEST_USER);
refs.before(() => rs.open());
refs.after(() => rs.close());

refs('localhost:5000/busybox pulls :latest, prints the image ID and records the tagged name', async () => {
  const bb = F().busybox;
  const r = ok(await rs.run(['pull', `${REGISTRY}/busybox`]));
  assert.is(r.stdout, `${bb.imageId}\n`);
  assert.match(r.stderr, `Trying to pull ${REGISTRY}/busybox:latest...`);
  assert.match(r.stderr, `Copying blob ${bb.layers[0].digest}\n`);
  assert.match(r.stderr, `Copying config ${bb.configDigest}\n`);
  const images = storedImages(rs.dir);
  assert.is(images.length, 1);
  assert.equal(images[0].names, [`${REGISTRY}/busybox:latest`]);
  assert.is(images[0].id, bb.imageId);
  assert.equal(images[0].layers, bb.diffIds);
  assert.ok(images[0].digests.includes(bb.manifestDigest), 'the manifest digest is recorded');
  assert.ok(fs.existsSync(path.join(rs.dir, 'blobs', 'sha256', bb.imageId)), 'the config is kept');
  assert.equal(tmpEntries(rs.dir), []);
});

refs('pulling :latest again finds everything present', async () => {
  const bb = F().busybox;
  const before = fs.statSync(layerDiff(rs.dir, bb.diffIds[0])).ino;
  const r = ok(await rs.run(['pull', `${REGISTRY}/busybox:latest`]));
  assert.is(r.stdout, `${bb.imageId}\n`);
  assert.match(r.stderr, `Copying blob ${bb.layers[0].digest} skipped: already exists`);
  assert.is(fs.statSync(layerDiff(rs.dir, bb.diffIds[0])).ino, before, 'the layer was not unpacked again');
  assert.is(storedImages(rs.dir).length, 1);
});

refs('a short name finds the pulled image: image inspect busybox, images busybox', async () => {
  const bb = F().busybox;
  const r = ok(await rs.run(['image', 'inspect', '--format', '{{.Id}} {{.RepoTags}}', 'busybox']));
  assert.is(r.stdout, `${bb.imageId} [${REGISTRY}/busybox:latest]\n`);
  const l = ok(await rs.run(['images', '--format', '{{.Repository}}:{{.Tag}}', 'busybox']));
  assert.is(l.stdout, `${REGISTRY}/busybox:latest\n`);
  const miss = await rs.run(['image', 'inspect', 'nosuchbox']);
  assertOneLineError(miss, /nosuchbox: image not known/);
});

refs('name@digest pulls that manifest; the image keeps the repository and is not dangling', async () => {
  const bb = F().busybox;
  const store = await freshStore(TEST_USER);
  try {
    const run = (args: string[]) => tspod(TEST_USER, args, { store });
    const r = ok(await run(['pull', `${REGISTRY}/busybox@${bb.manifestDigest}`]));
    assert.is(r.stdout, `${bb.imageId}\n`);
    assert.match(r.stderr, `Trying to pull ${REGISTRY}/busybox@${bb.manifestDigest}...`);
    const rows = ok(await run(['images', '--format', '{{.Repository}} {{.Tag}} {{.ID}}']));
    assert.is(rows.stdout, `${REGISTRY}/busybox <none> ${bb.imageId.slice(0, 12)}\n`);
    assert.is(ok(await run(['images', '-q', '--filter', 'dangling=true'])).stdout, '', 'an image pulled by digest is not dangling');
    const inspect = ok(await run(['image', 'inspect', `${REGISTRY}/busybox@${bb.manifestDigest}`]));
    const [img] = JSON.parse(inspect.stdout);
    assert.equal(img.RepoTags, []);
    assert.equal(img.RepoDigests, [`${REGISTRY}/busybox@${bb.manifestDigest}`]);
    ok(await run(['image', 'prune', '-f']));
    assert.is(storedImages(store).length, 1, 'image prune keeps it');
  } finally {
    removeStore(store);
  }
});

refs('name:tag@digest: the digest decides what is pulled', async () => {
  const bb = F().busybox;
  const r = ok(await rs.run(['pull', `${REGISTRY}/busybox:latest@${bb.manifestDigest}`]));
  assert.is(r.stdout, `${bb.imageId}\n`);
  // A tag next to a digest of another repository's manifest: the registry has no such manifest.
  const wrong = await rs.run(['pull', `${REGISTRY}/busybox:latest@${F().layered.manifestDigest}`]);
  assertOneLineError(wrong, /manifest unknown/);
  assert.not.ok(storedImages(rs.dir).some((i) => i.id === F().layered.imageId));
});

const INVALID: Array<[string, RegExp]> = [
  [`${REGISTRY}/BusyBox`, /invalid reference format.*lowercase/],
  [`${REGISTRY}/busybox:`, /invalid reference format/],
  [`${REGISTRY}/busybox:bad!tag`, /invalid reference format/],
  [`${REGISTRY}/busybox@sha256:1234`, /invalid reference format/],
  [`${REGISTRY}/busybox@md5:${'a'.repeat(32)}`, /invalid reference format/],
  [':latest', /invalid reference format/],
  [`${REGISTRY}//busybox`, /invalid reference format/],
  ['busy box', /invalid reference format/],
  ['', /invalid reference format/],
];

refs('invalid references: one clear line, exit 125, nothing stored', async () => {
  const store = await freshStore(TEST_USER);
  try {
    for (const [input, pattern] of INVALID) {
      const r = await tspod(TEST_USER, ['pull', input], { store });
      const line = assertOneLineError(r, pattern);
      assert.ok(line.includes(`"${input}"`), `the error names the input: ${line}`);
      assert.is(r.stdout, '', input);
    }
    assert.equal(storedImages(store), []);
    assert.equal(storedLayers(store), []);
  } finally {
    removeStore(store);
  }
});

refs('an unreachable registry: one line naming it and the cause, exit 125', async () => {
  const r = await rs.run(['pull', '--tls-verify=false', 'localhost:5999/busybox']);
  const line = assertOneLineError(r, /localhost:5999/);
  assert.match(line, /connection refused/);
  const nosuch = await rs.run(['pull', `${REGISTRY}/nosuch`]);
  assertOneLineError(nosuch, /localhost:5000\/nosuch.*manifest unknown/);
  assert.match(nosuch.stderr, /^Trying to pull localhost:5000\/nosuch:latest\.\.\.$/m, 'as podman, the attempt is named first');
});

// ---------------------------------------------------------------------------------------------
const disk = suite('pull: the fixtures on disk (tspod-test, subordinate ids)');
const ds = sharedStore(TEST_USER);
disk.before(async () => {
  await ds.open();
  ok(await ds.run(['pull', '-q', `${REGISTRY}/busybox`]));
});
disk.after(() => ds.close());

disk('busybox: every file as recorded, root files owned by the user, /home/user by subuid+999', () => {
  const bb = F().busybox;
  assert.equal(compareTree(ds.dir, bb, TEST_USER), []);
  const me = userInfo(TEST_USER);
  const st = fs.lstatSync(path.join(layerDiff(ds.dir, bb.diffIds[0]), 'bin', 'busybox'));
  assert.is(st.uid, me.uid);
  const home = fs.lstatSync(path.join(layerDiff(ds.dir, bb.diffIds[0]), 'home', 'user'));
  assert.is(home.uid, me.subuid[0].start + 999);
  assert.is(home.gid, me.subgid[0].start + 999);
  const rec = JSON.parse(fs.readFileSync(path.join(layerDir(ds.dir, bb.diffIds[0]), 'layer.json'), 'utf8'));
  assert.is(rec.compressedDigest, bb.layers[0].digest);
  assert.is(rec.diffId, bb.diffIds[0]);
});

disk('layered after busybox: the shared layer is skipped and left alone', async () => {
  const bb = F().busybox;
  const ly = F().layered;
  const shared = layerDir(ds.dir, bb.diffIds[0]);
  const before = { ino: fs.statSync(path.join(shared, 'diff')).ino, rec: fs.readFileSync(path.join(shared, 'layer.json'), 'utf8') };
  const r = ok(await ds.run(['pull', `${REGISTRY}/layered`]));
  assert.is(r.stdout, `${ly.imageId}\n`);
  assert.is(ly.layers[0].digest, bb.layers[0].digest);
  assert.match(r.stderr, `Copying blob ${bb.layers[0].digest} skipped: already exists\n`);
  for (const l of ly.layers.slice(1)) assert.match(r.stderr, `Copying blob ${l.digest}\n`);
  assert.is(lines(r.stderr).filter((l) => l.startsWith('Copying blob ') && !l.endsWith('skipped: already exists')).length, 5, 'five layers fetched');
  assert.is(fs.statSync(path.join(shared, 'diff')).ino, before.ino, 'same inode: not unpacked again');
  assert.is(fs.readFileSync(path.join(shared, 'layer.json'), 'utf8'), before.rec);
  assert.equal(storedLayers(ds.dir), [...new Set(ly.diffIds)].sort());
  assert.equal(storedImages(ds.dir).map((i) => i.id).sort(), [bb.imageId, ly.imageId].sort());
});

disk('layered: the merged tree is the recorded one, and what whiteouts removed is gone', () => {
  const ly = F().layered;
  assert.equal(compareTree(ds.dir, ly, TEST_USER), []);
  const diffs = ly.diffIds.map((d) => layerDiff(ds.dir, d));
  const opaque = opaqueDirs(diffs);
  for (const p of ly.absent ?? []) assert.is(resolveOverlay(diffs, opaque, p), undefined, `${p} is hidden`);
});

disk('layered: whiteouts are 0/0 character devices, the opaque directory has its xattr', () => {
  const ly = F().layered;
  const wl = layerDiff(ds.dir, ly.diffIds[2]);
  for (const p of ['opt/gone', 'opt/app/old.txt']) {
    const st = fs.lstatSync(path.join(wl, p));
    assert.ok(isWhiteout(st), `${p} is a 0/0 char device`);
    assert.is(st.uid, userInfo(TEST_USER).uid, `${p} owned by the user (root inside)`);
  }
  assert.not.ok(fs.existsSync(path.join(wl, 'opt', '.wh.gone')), 'no .wh. file left');
  assert.not.ok(fs.existsSync(path.join(wl, 'opt', 'app', '.wh.old.txt')));
  const ol = layerDiff(ds.dir, ly.diffIds[3]);
  assert.equal([...opaqueDirs([ol])[0]], ['/opt/cache']);
  assert.equal(fs.readdirSync(path.join(ol, 'opt', 'cache')), ['fresh.txt'], 'no .wh..wh..opq file left');
});

disk('layered: hardlink shares an inode, symlinks keep their targets, setuid bit, owners, mtimes', () => {
  const ly = F().layered;
  const me = userInfo(TEST_USER);
  const bin = path.join(layerDiff(ds.dir, ly.diffIds[4]), 'usr', 'local', 'bin');
  const tool = fs.lstatSync(path.join(bin, 'tool'));
  const hard = fs.lstatSync(path.join(bin, 'tool-hard'));
  assert.is(hard.ino, tool.ino);
  assert.is(tool.nlink, 2);
  assert.is(fs.readlinkSync(path.join(bin, 'tool-sym')), 'tool');
  assert.is(fs.readlinkSync(path.join(layerDiff(ds.dir, ly.diffIds[4]), 'etc', 'app.conf')), '/opt/app/config.txt');
  const suid = fs.lstatSync(path.join(bin, 'suid-tool'));
  assert.is(suid.mode & 0o7777, 0o4755);
  assert.is(suid.uid, me.uid);
  const notes = fs.lstatSync(path.join(layerDiff(ds.dir, ly.diffIds[1]), 'home', 'user', 'notes.txt'));
  assert.equal({ uid: notes.uid, gid: notes.gid }, hostIds(TEST_USER, 1000, 1000));
  assert.equal({ uid: notes.uid, gid: notes.gid }, { uid: me.subuid[0].start + 999, gid: me.subgid[0].start + 999 });
  assert.is(notes.mode & 0o7777, fileFact(ly, '/home/user/notes.txt').mode);
  // Directories named in a layer keep their mtime even after their children were written.
  for (const [n, dir] of [[3, 'opt/cache'], [4, 'usr/local/bin'], [1, 'opt/app']] as const) {
    const st = fs.lstatSync(path.join(layerDiff(ds.dir, ly.diffIds[n]), dir));
    assert.is(Math.floor(st.mtimeMs / 1000), FIXTURE_MTIME, `${dir} mtime`);
  }
});

disk('tspod unshare shows the files as the image has them: 1000:1000, and the mapping', async () => {
  const ly = F().layered;
  const me = userInfo(TEST_USER);
  const notes = path.join(layerDiff(ds.dir, ly.diffIds[1]), 'home', 'user', 'notes.txt');
  const st = ok(await ds.run(['unshare', 'stat', '-c', '%u:%g', notes]));
  assert.is(st.stdout, '1000:1000\n');
  const ls = ok(await ds.run(['unshare', 'ls', '-ln', path.dirname(notes)]));
  assert.match(ls.stdout, /^-rw-r----- +1 1000 +1000 +14 .* notes\.txt$/m);
  const root = ok(await ds.run(['unshare', 'stat', '-c', '%u:%g', path.join(layerDiff(ds.dir, ly.diffIds[4]), 'usr', 'local', 'bin', 'suid-tool')]));
  assert.is(root.stdout, '0:0\n');
  const map = ok(await ds.run(['unshare', 'cat', '/proc/self/uid_map']));
  assert.equal(
    lines(map.stdout).map((l) => l.trim().split(/\s+/).map(Number)),
    [[0, me.uid, 1], [1, me.subuid[0].start, me.subuid[0].count]],
  );
  const gmap = ok(await ds.run(['unshare', 'cat', '/proc/self/gid_map']));
  assert.equal(lines(gmap.stdout)[1].trim().split(/\s+/).map(Number), [1, me.subgid[0].start, me.subgid[0].count]);
  const code = await ds.run(['unshare', 'sh', '-c', 'exit 7']);
  assert.is(code.code, 7, "unshare exits with the command's code");
});

// ---------------------------------------------------------------------------------------------
const formats = suite('pull: zstd layers and multi-platform indexes');

formats('zstd: the OCI tar+zstd layer unpacks to the busybox tree; same image ID as busybox', async () => {
  const z = F().zstd;
  const store = await freshStore(TEST_USER);
  try {
    assert.is(z.layers[0].mediaType, 'application/vnd.oci.image.layer.v1.tar+zstd');
    const r = ok(await tspod(TEST_USER, ['pull', `${REGISTRY}/zstd`], { store }));
    assert.is(r.stdout, `${F().busybox.imageId}\n`);
    assert.match(r.stderr, `Copying blob ${z.layers[0].digest}\n`);
    assert.equal(compareTree(store, z, TEST_USER), []);
    const rec = JSON.parse(fs.readFileSync(path.join(layerDir(store, z.diffIds[0]), 'layer.json'), 'utf8'));
    assert.is(rec.mediaType, z.layers[0].mediaType);
    // busybox now: same diff_id, so nothing is fetched; the image gets a second name.
    const b = ok(await tspod(TEST_USER, ['pull', `${REGISTRY}/busybox`], { store }));
    assert.match(b.stderr, `Copying blob ${F().busybox.layers[0].digest} skipped: already exists`);
    const rows = ok(await tspod(TEST_USER, ['images', '--format', '{{.Repository}} {{.ID}}', '--sort', 'repository'], { store }));
    const id = z.imageId.slice(0, 12);
    assert.is(rows.stdout, `${REGISTRY}/busybox ${id}\n${REGISTRY}/zstd ${id}\n`);
  } finally {
    removeStore(store);
  }
});

formats('multiarch: the host platform by default, linux/arm64 with --platform and with --arch', async () => {
  const m = F().multiarch;
  const host = m.manifests.find((x) => x.architecture === hostArch());
  const arm = m.manifests.find((x) => x.architecture === 'arm64')!;
  assert.ok(host, `the index has ${hostArch()}`);
  const store = await freshStore(TEST_USER);
  try {
    const run = (args: string[]) => tspod(TEST_USER, args, { store });
    const r = ok(await run(['pull', `${REGISTRY}/multiarch`]));
    assert.is(r.stdout, `${host!.imageId}\n`);
    const top = layerDiff(store, host!.diffIds[host!.diffIds.length - 1]);
    assert.is(fs.readFileSync(path.join(top, 'etc', 'arch'), 'utf8').trim(), hostArch());
    const img = storedImages(store).find((i) => i.id === host!.imageId)!;
    assert.ok(img.digests.includes(m.manifestDigest), 'the index digest is recorded');
    assert.is(img.manifestDigest, host!.manifestDigest);

    const a = ok(await run(['pull', '--platform', 'linux/arm64', `${REGISTRY}/multiarch`]));
    assert.is(a.stdout, `${arm.imageId}\n`);
    const armFile = path.join(layerDiff(store, arm.diffIds[arm.diffIds.length - 1]), 'etc', 'arch');
    assert.is(fs.readFileSync(armFile, 'utf8').trim(), 'arm64');
    const insp = JSON.parse(ok(await run(['image', 'inspect', `${REGISTRY}/multiarch`])).stdout)[0];
    assert.is(insp.Id, arm.imageId);
    assert.is(insp.Architecture, 'arm64');
    assert.is(insp.Variant, 'v8');
    // The name moved to the arm64 image; the host one is left without a name.
    const rows = ok(await run(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']));
    assert.equal(lines(rows.stdout).sort(), [`${REGISTRY}/multiarch:latest ${arm.imageId.slice(0, 12)}`, `<none>:<none> ${host!.imageId.slice(0, 12)}`].sort());

    const byArch = ok(await run(['pull', '-q', '--arch', 'arm64', `${REGISTRY}/multiarch`]));
    assert.is(byArch.stdout, `${arm.imageId}\n`);
    const none = await run(['pull', '--arch', 's390x', `${REGISTRY}/multiarch`]);
    const line = assertOneLineError(none, /s390x/);
    assert.match(line, /linux\/arm64/, 'names the platforms the image has');
    const both = await run(['pull', '--platform', 'linux/arm64', '--arch', 'arm64', `${REGISTRY}/multiarch`]);
    assertOneLineError(both, /--platform/);
  } finally {
    removeStore(store);
  }
});

// ---------------------------------------------------------------------------------------------
const terminal = suite('pull on a terminal: the live display');

const plainText = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');

terminal('a line per layer, each done at the end, then the image ID; an error is still one line', async () => {
  const ly = F().layered;
  const store = await freshStore(TEST_USER);
  try {
    const r = await withPty(TEST_USER, [TSPOD_BIN, '--root', store, 'pull', `${REGISTRY}/layered`], { rows: 40, cols: 120, timeout: 60_000 });
    const out = plainText(r.output);
    assert.is(r.code, 0, out);
    assert.not.match(out, /Error/, out);
    assert.match(out, `Pulled ${REGISTRY}/layered:latest`);
    for (const l of ly.layers) assert.match(out, new RegExp(`Copying blob ${l.digest.slice(7, 19)} done`), `${l.digest} done:\n${out}`);
    assert.match(out, new RegExp(`^${ly.imageId}$`, 'm'));
    assert.is(storedImages(store).length, 1);
    const bad = await withPty(TEST_USER, [TSPOD_BIN, '--root', store, 'pull', `${REGISTRY}/nosuch`], { rows: 40, cols: 120, timeout: 60_000 });
    assert.is(bad.code, 125, plainText(bad.output));
    assert.is(lines(plainText(bad.output)).filter((l) => l.startsWith('Error: ')).length, 1, plainText(bad.output));
  } finally {
    removeStore(store);
  }
});

terminal('a terminal that reports no size gets the plain lines (and does not hang)', async () => {
  const store = await freshStore(TEST_USER);
  try {
    const r = await withPty(TEST_USER, [TSPOD_BIN, '--root', store, 'pull', `${REGISTRY}/busybox`], { rows: 0, cols: 0, timeout: 30_000 });
    assert.not.ok(r.timedOut, 'it finished');
    assert.is(r.code, 0, plainText(r.output));
    assert.match(plainText(r.output), `Copying blob ${F().busybox.layers[0].digest}\n`);
  } finally {
    removeStore(store);
  }
});

// ---------------------------------------------------------------------------------------------
const nosub = suite('pull: tspod-nosub (no subordinate ids) collapses owners to the user');

nosub('layered: one warning, every file owned by the user, unshare maps only the user', async () => {
  const ly = F().layered;
  const me = userInfo(NOSUB_USER);
  assert.equal(me.subuid, [], 'the bed gives tspod-nosub no ranges');
  const store = await freshStore(NOSUB_USER);
  try {
    const r = ok(await tspod(NOSUB_USER, ['pull', `${REGISTRY}/layered`], { store }));
    assert.is(r.stdout, `${ly.imageId}\n`);
    const warnings = lines(r.stderr).filter((l) => /single mapping/.test(l));
    assert.is(warnings.length, 1, show(r));
    assert.match(warnings[0], /^WARN/);
    assert.equal(compareTree(store, ly, NOSUB_USER), []);
    const notes = fs.lstatSync(path.join(layerDiff(store, ly.diffIds[1]), 'home', 'user', 'notes.txt'));
    assert.equal([notes.uid, notes.gid], [me.uid, me.gid]);
    // Whiteouts work without subordinate ids too.
    assert.ok(isWhiteout(fs.lstatSync(path.join(layerDiff(store, ly.diffIds[2]), 'opt', 'gone'))));
    const map = ok(await tspod(NOSUB_USER, ['unshare', 'cat', '/proc/self/uid_map'], { store }));
    assert.equal(lines(map.stdout).map((l) => l.trim().split(/\s+/).map(Number)), [[0, me.uid, 1]]);
    const st = ok(await tspod(NOSUB_USER, ['unshare', 'stat', '-c', '%u:%g', path.join(layerDiff(store, ly.diffIds[1]), 'home', 'user', 'notes.txt')], { store }));
    assert.is(st.stdout, '0:0\n');
    // A second pull that unpacks nothing says nothing about the mapping.
    const again = ok(await tspod(NOSUB_USER, ['pull', `${REGISTRY}/layered`], { store }));
    assert.not.match(again.stderr, /WARN/);
  } finally {
    removeStore(store);
  }
});

refs.run();
disk.run();
formats.run();
terminal.run();
nosub.run();
