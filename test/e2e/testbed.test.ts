// The test bed itself: if these fail, every other end-to-end failure is suspect.

import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CA_CERT,
  decompressLayer,
  describeDiff,
  diffSnapshots,
  fileFact,
  fixtures,
  freshStore,
  getBlob,
  getManifest,
  HOSTILE_NAMES,
  isEmptyDiff,
  listTar,
  ManifestFact,
  NOSUB_USER,
  REGISTRY,
  REGISTRY_PASSWORD,
  REGISTRY_USER,
  removeStore,
  runAs,
  snapshotTree,
  TarMember,
  TEST_USER,
  TLS_REGISTRY,
  tspod,
  TOKEN_REGISTRY,
  userInfo,
  withPty,
} from '../lib';

const sha = (b: Buffer): string => 'sha256:' + crypto.createHash('sha256').update(b).digest('hex');
const CREDS = `${REGISTRY_USER}:${REGISTRY_PASSWORD}`;

async function layerMembers(repo: string, image: ManifestFact, n: number): Promise<TarMember[]> {
  const l = image.layers[n];
  const blob = await getBlob(REGISTRY, repo, l.digest);
  assert.is(blob.status, 200, `GET ${repo}@${l.digest}`);
  return listTar(decompressLayer(blob.body, l.mediaType));
}

function member(members: TarMember[], name: string): TarMember {
  const m = members.find((x) => x.name === name);
  if (!m) assert.unreachable(`no ${name} in [${members.map((x) => x.name).join(', ')}]`);
  return m!;
}

// ---------------------------------------------------------------------------------------------
const registry = suite('testbed: registry serves the fixtures as recorded');

registry('fixtures.json names every image of the contract', () => {
  const names = Object.keys(fixtures().images).sort();
  const want = ['busybox', 'layered', 'multiarch', 'probe', 'zstd', ...HOSTILE_NAMES.map((h) => `hostile/${h}`)].sort();
  assert.equal(names, want);
});

registry('each manifest is served with the recorded digest, size and media type', async () => {
  for (const img of Object.values(fixtures().images)) {
    const r = await getManifest(REGISTRY, img.repository, img.tag);
    assert.is(r.status, 200, img.ref);
    assert.is(r.headers['docker-content-digest'], img.manifestDigest, `${img.ref} Docker-Content-Digest`);
    assert.is(sha(r.body), img.manifestDigest, `${img.ref} body`);
    assert.is(r.body.length, img.manifestSize, `${img.ref} size`);
    assert.is(r.headers['content-type'], img.mediaType, `${img.ref} content type`);
  }
});

registry('configs and layers of the well-formed images match their digests and diff_ids', async () => {
  const f = fixtures().images;
  const images: [string, ManifestFact][] = [
    ['busybox', f.busybox],
    ['layered', f.layered],
    ['zstd', f.zstd],
    ...f.multiarch.manifests.map((m): [string, ManifestFact] => ['multiarch', m]),
  ];
  for (const [repo, img] of images) {
    const manifest = JSON.parse((await getManifest(REGISTRY, repo, img.manifestDigest)).body.toString());
    assert.is(manifest.config.digest, img.configDigest, `${repo} config descriptor`);
    assert.equal(manifest.layers.map((l: { digest: string }) => l.digest), img.layers.map((l) => l.digest));
    const config = await getBlob(REGISTRY, repo, img.configDigest);
    assert.is(sha(config.body), img.configDigest, `${repo} config`);
    assert.equal(JSON.parse(config.body.toString()).rootfs.diff_ids, img.diffIds, `${repo} diff_ids`);
    for (const l of img.layers) {
      const blob = await getBlob(REGISTRY, repo, l.digest);
      assert.is(sha(blob.body), l.digest, `${repo} layer ${l.digest}`);
      assert.is(sha(decompressLayer(blob.body, l.mediaType)), l.diffId, `${repo} layer ${l.digest} diff_id`);
    }
  }
});

registry('busybox is a Docker schema 2 image with a runnable /bin/busybox and its applets', async () => {
  const bb = fixtures().images.busybox;
  assert.is(bb.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  assert.equal(bb.config.Cmd, ['sh']);
  const members = await layerMembers('busybox', bb, 0);
  const binary = member(members, 'bin/busybox');
  assert.is(sha(binary.data), sha(fs.readFileSync('/bin/busybox')), 'the host busybox-static binary');
  assert.is(binary.mode, 0o755);
  for (const applet of ['sh', 'echo', 'cat', 'ls', 'id', 'true', 'false', 'sleep', 'env', 'hostname', 'httpd']) {
    const m = member(members, `bin/${applet}`);
    assert.is(m.typeflag, '2', `bin/${applet} is a symlink`);
    assert.is(m.linkname, 'busybox');
  }
  const passwd = member(members, 'etc/passwd').data.toString();
  assert.match(passwd, /^root:x:0:0:/m);
  assert.match(passwd, /^user:x:1000:1000:/m);
  assert.ok(member(members, 'etc/group').data.toString().includes('user:x:1000:'));
  assert.is(member(members, 'tmp/').mode, 0o1777);
  assert.is(fileFact(bb, '/tmp').mode, 0o1777);
});

registry('layered has the config of a real build and every layer feature', async () => {
  const img = fixtures().images.layered;
  assert.is(img.layers.length, 6);
  assert.is(img.history.filter((h) => !h.empty_layer).length, img.layers.length, 'one non-empty history entry per layer');
  assert.equal(img.config, {
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'LAYERED=1'],
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: ['echo layered'],
    WorkingDir: '/srv',
    Labels: { 'org.opencontainers.image.title': 'layered', 'tspod.test.fixture': 'layered' },
    ExposedPorts: { '80/tcp': {} },
    Volumes: { '/data': {} },
    StopSignal: 'SIGINT',
  });
  assert.is(img.layers[0].digest, fixtures().images.busybox.layers[0].digest, 'FROM busybox');
  const all = (await Promise.all([1, 2, 3, 4, 5].map((n) => layerMembers('layered', img, n)))).flat();
  assert.ok(all.some((m) => m.name === 'opt/app/.wh.old.txt'), 'a whiteout');
  assert.ok(all.some((m) => m.name === 'opt/cache/.wh..wh..opq'), 'an opaque directory');
  assert.is(member(all, 'usr/local/bin/tool-hard').typeflag, '1', 'a hardlink');
  assert.is(member(all, 'usr/local/bin/tool-sym').typeflag, '2', 'a symlink');
  assert.is(member(all, 'usr/local/bin/suid-tool').mode, 0o4755, 'a setuid file');
  assert.is(member(all, 'home/user/notes.txt').uid, 1000);
  assert.is(member(all, 'home/user/notes.txt').gid, 1000);
  assert.is(member(all, 'empty/').typeflag, '5', 'an empty directory');
  // The recorded tree agrees: whiteouts applied, later layers win.
  for (const p of img.absent ?? []) assert.not.ok(img.files?.some((f) => f.path === p), `${p} is absent`);
  assert.is(fileFact(img, '/opt/app/config.txt').sha256, crypto.createHash('sha256').update('answer=43\n').digest('hex'));
  assert.is(fileFact(img, '/usr/local/bin/tool-hard').linkTo, '/usr/local/bin/tool');
  assert.not.ok(img.files?.some((f) => f.path.startsWith('/empty/')), '/empty stays empty');
});

registry('zstd carries the busybox tree in zstd-compressed layers', async () => {
  const { zstd, busybox } = fixtures().images;
  assert.is(zstd.layers[0].mediaType, 'application/vnd.oci.image.layer.v1.tar+zstd');
  const blob = await getBlob(REGISTRY, 'zstd', zstd.layers[0].digest);
  assert.equal([...blob.body.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd], 'zstd frame magic');
  assert.equal(zstd.diffIds, busybox.diffIds, 'same uncompressed layer as busybox');
});

registry('multiarch is an index of linux/amd64 and a distinct linux/arm64 image', async () => {
  const idx = fixtures().images.multiarch;
  const r = await getManifest(REGISTRY, 'multiarch', 'latest');
  const doc = JSON.parse(r.body.toString());
  assert.is(doc.mediaType, 'application/vnd.oci.image.index.v1+json');
  assert.equal(
    doc.manifests.map((m: { platform: { os: string; architecture: string } }) => `${m.platform.os}/${m.platform.architecture}`),
    ['linux/amd64', 'linux/arm64'],
  );
  const arm = idx.manifests[1];
  assert.is(arm.architecture, 'arm64');
  const config = JSON.parse((await getBlob(REGISTRY, 'multiarch', arm.configDigest)).body.toString());
  assert.is(config.architecture, 'arm64');
  const members = await layerMembers('multiarch', arm, 0);
  assert.is(member(members, 'etc/arch').data.toString(), 'arm64\n');
  assert.is.not(arm.manifestDigest, idx.manifests[0].manifestDigest);
});

// ---------------------------------------------------------------------------------------------
const hostile = suite('testbed: hostile images are hostile');

const hostileMembers = async (name: string): Promise<TarMember[]> => {
  const img = fixtures().images[`hostile/${name}` as `hostile/dotdot`];
  const layers = await Promise.all(img.layers.map((_, n) => layerMembers(img.repository, img, n)));
  return layers.flat();
};

hostile('dotdot has names that climb out with ..', async () => {
  const names = (await hostileMembers('dotdot')).map((m) => m.name);
  assert.ok(names.includes('../tspod-escape-dotdot'));
  assert.ok(names.filter((n) => n.split('/').includes('..')).length >= 4, names.join(' '));
});

hostile('absolute has /-prefixed names', async () => {
  const names = (await hostileMembers('absolute')).map((m) => m.name);
  assert.ok(names.includes('/tmp/tspod-escape-absolute'), names.join(' '));
  assert.ok(names.includes('//tmp/tspod-escape-absolute2'), names.join(' '));
});

hostile('symlink-escape links to /tmp and / and then writes through the links', async () => {
  const members = await hostileMembers('symlink-escape');
  assert.is(member(members, 'evil').linkname, '/tmp');
  assert.is(member(members, 'root').linkname, '/');
  assert.ok(member(members, 'up').linkname.startsWith('../../'));
  for (const n of ['evil/tspod-escape-symlink', 'evil/tspod-escape-symlink-next-layer', 'up/tspod-escape-symlink-up']) {
    assert.is(member(members, n).typeflag, '0', n);
  }
  assert.is(fixtures().images['hostile/symlink-escape'].layers.length, 2, 'the link and a write through it in separate layers too');
});

hostile('hardlink-escape links to ../../etc/passwd and /etc/passwd', async () => {
  const members = await hostileMembers('hardlink-escape');
  assert.is(member(members, 'passwd-rel').typeflag, '1');
  assert.is(member(members, 'passwd-rel').linkname, '../../etc/passwd');
  assert.is(member(members, 'passwd-abs').linkname, '/etc/passwd');
});

hostile('root-not-dir has ./ and . entries that are not directories', async () => {
  const members = await hostileMembers('root-not-dir');
  assert.is(member(members, './').typeflag, '2');
  assert.is(member(members, '.').typeflag, '0');
});

hostile('bad-digest: the registry serves other bytes than the digest names, same size', async () => {
  const img = fixtures().images['hostile/bad-digest'];
  const layer = img.layers[0];
  const blob = await getBlob(REGISTRY, img.repository, layer.digest);
  assert.is(blob.status, 200);
  assert.is.not(sha(blob.body), layer.digest);
  assert.is(sha(blob.body), img.corrupt?.servedSha256);
  assert.is(blob.body.length, layer.size, 'Content-Length still fits');
  // Still a valid gzip and tar, so only a digest check can catch it.
  assert.is(member(listTar(decompressLayer(blob.body, layer.mediaType)), 'payload.txt').data.toString().slice(0, 4), 'EVIL');
});

hostile('bad-diffid: the config names another diff_id than the layer has', async () => {
  const img = fixtures().images['hostile/bad-diffid'];
  const layer = img.layers[0];
  const blob = await getBlob(REGISTRY, img.repository, layer.digest);
  assert.is(sha(blob.body), layer.digest, 'the blob itself is intact');
  const config = JSON.parse((await getBlob(REGISTRY, img.repository, img.configDigest)).body.toString());
  assert.is.not(config.rootfs.diff_ids[0], sha(decompressLayer(blob.body, layer.mediaType)));
});

// ---------------------------------------------------------------------------------------------
const auth = suite('testbed: authenticated registries hold their copies');

auth('localhost:5001 wants basic auth and serves private/busybox to tester', async () => {
  const copy = fixtures().copies.find((c) => c.registry === TLS_REGISTRY);
  assert.ok(copy?.available, 'fixtures.sh found localhost:5001 up');
  assert.is((await getManifest(TLS_REGISTRY, 'private/busybox', 'latest')).status, 401);
  const r = await getManifest(TLS_REGISTRY, 'private/busybox', 'latest', { creds: CREDS });
  assert.is(r.status, 200);
  assert.is(sha(r.body), fixtures().images.busybox.manifestDigest);
});

auth('localhost:5002 gives anonymous pull tokens for public/* only', async () => {
  for (const repo of ['private/busybox', 'public/busybox']) {
    assert.ok(fixtures().copies.find((c) => c.registry === TOKEN_REGISTRY && c.repository === repo)?.available, repo);
  }
  const anonPublic = await getManifest(TOKEN_REGISTRY, 'public/busybox', 'latest');
  assert.is(anonPublic.status, 200);
  assert.is(sha(anonPublic.body), fixtures().images.busybox.manifestDigest);
  assert.is.not((await getManifest(TOKEN_REGISTRY, 'private/busybox', 'latest')).status, 200);
  assert.is((await getManifest(TOKEN_REGISTRY, 'private/busybox', 'latest', { creds: CREDS })).status, 200);
});

auth('the TLS registries present a certificate of the test CA, for localhost too', async () => {
  assert.ok(fs.existsSync(CA_CERT));
  const r = await runAs(TEST_USER, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', CA_CERT, 'https://localhost:5001/v2/']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '401');
});

// ---------------------------------------------------------------------------------------------
const users = suite('testbed: users and devices');

users('tspod-test has subordinate uid and gid ranges of 65536 ids', () => {
  const u = userInfo(TEST_USER);
  assert.ok(u.uid >= 1000);
  assert.ok(u.subuid.some((r) => r.count >= 65536), JSON.stringify(u.subuid));
  assert.ok(u.subgid.some((r) => r.count >= 65536), JSON.stringify(u.subgid));
});

users('tspod-nosub has no subordinate ranges at all', () => {
  const u = userInfo(NOSUB_USER);
  assert.equal(u.subuid, []);
  assert.equal(u.subgid, []);
});

users('/dev/net/tun and /dev/fuse are usable by anyone', () => {
  for (const dev of ['/dev/net/tun', '/dev/fuse']) {
    const st = fs.statSync(dev);
    assert.ok(st.isCharacterDevice(), dev);
    assert.is(st.mode & 0o777, 0o666, dev);
  }
});

users('each test user marks localhost:5000 insecure in its own registries.conf', () => {
  for (const name of [TEST_USER, NOSUB_USER]) {
    const u = userInfo(name);
    const conf = path.join(u.home, '.config', 'containers', 'registries.conf');
    assert.match(fs.readFileSync(conf, 'utf8'), /location = "localhost:5000"\ninsecure = true/);
    assert.is(fs.statSync(conf).uid, u.uid, `${conf} belongs to ${name}`);
  }
});

// ---------------------------------------------------------------------------------------------
const harness = suite('testbed: harness');

harness('runAs runs as the user, with its groups, its home and a clean environment', async () => {
  const u = userInfo(TEST_USER);
  const r = await runAs(TEST_USER, ['sh', '-c', 'id -u; id -g; id -G; pwd; env | sort'], {
    env: { EXTRA: 'yes' },
  });
  assert.is(r.code, 0, r.stderr);
  const [uid, gid, groups, cwd, ...env] = r.stdout.trim().split('\n');
  assert.is(Number(uid), u.uid);
  assert.is(Number(gid), u.gid);
  assert.not.ok(groups.split(' ').includes('0'), 'no root group');
  assert.is(cwd, u.home);
  const keys = env.map((l) => l.split('=')[0]).filter((k) => k !== 'PWD' && k !== 'SHLVL' && k !== '_');
  assert.equal(keys, ['EXTRA', 'HOME', 'LANG', 'LOGNAME', 'NO_COLOR', 'PATH', 'USER', 'XDG_RUNTIME_DIR']);
  assert.ok(env.includes(`XDG_RUNTIME_DIR=/tmp/tspod-test-run-${u.uid}`));
});

harness('runAs keeps no capabilities', async () => {
  const r = await runAs(TEST_USER, ['grep', '^CapEff', '/proc/self/status']);
  assert.match(r.stdout, /^CapEff:\s+0+$/m);
});

harness('runAs feeds input, reports exit codes, and kills a command at its timeout', async () => {
  const echo = await runAs(NOSUB_USER, ['sh', '-c', 'cat; exit 3'], { input: 'hello\n' });
  assert.is(echo.stdout, 'hello\n');
  assert.is(echo.code, 3);
  const t0 = Date.now();
  const slow = await runAs(TEST_USER, ['sh', '-c', 'sleep 30 & sleep 30'], { timeout: 300 });
  assert.ok(slow.timedOut);
  assert.is(slow.signal, 'SIGKILL');
  assert.ok(Date.now() - t0 < 10_000, 'returned long before the sleeps would end');
});

harness('the runtime directory is private to the user', async () => {
  const u = userInfo(TEST_USER);
  await runAs(TEST_USER, ['true']);
  const st = fs.lstatSync(`/tmp/tspod-test-run-${u.uid}`);
  assert.ok(st.isDirectory());
  assert.is(st.uid, u.uid);
  assert.is(st.mode & 0o777, 0o700);
});

harness('the test user reaches the plain registry over loopback', async () => {
  const r = await runAs(TEST_USER, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', `http://${REGISTRY}/v2/busybox/manifests/latest`, '-H', 'Accept: application/vnd.docker.distribution.manifest.v2+json']);
  assert.is(r.stdout, '200');
});

harness('freshStore makes a private store in the home; removeStore removes it with foreign-owned files and mounts', async () => {
  const u = userInfo(TEST_USER);
  const store = await freshStore(TEST_USER);
  assert.is(path.dirname(store), path.join(u.home, 'stores'));
  const st = fs.statSync(store);
  assert.is(st.uid, u.uid);
  assert.is(st.mode & 0o777, 0o700);
  assert.equal(fs.readdirSync(store), []);
  // What a rootless unpack leaves: files of a subordinate uid in a directory the user cannot write.
  const sub = u.subuid[0].start;
  fs.mkdirSync(path.join(store, 'l', 'd'), { recursive: true });
  fs.writeFileSync(path.join(store, 'l', 'd', 'f'), 'x');
  fs.chownSync(path.join(store, 'l', 'd', 'f'), sub, sub);
  fs.chownSync(path.join(store, 'l', 'd'), sub, sub);
  fs.chmodSync(path.join(store, 'l', 'd'), 0o500);
  // And a mount left behind, as by a fuse-overlayfs that outlived its container.
  fs.mkdirSync(path.join(store, 'with space'));
  const mount = spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', path.join(store, 'with space')]);
  assert.is(mount.status, 0, String(mount.stderr));
  fs.writeFileSync(path.join(store, 'with space', 'f'), 'x');
  removeStore(store);
  assert.not.ok(fs.existsSync(store));
  assert.not.ok(fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(store), 'mount detached');
  assert.throws(() => removeStore('/etc'), /refusing/);
});

harness('tspod() runs dist/tspod as the user on a fresh store that is gone afterwards', async () => {
  const u = userInfo(TEST_USER);
  const r = await tspod(TEST_USER, ['info', '--format', 'json']);
  assert.is(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  const store: string = info.store.graphRoot;
  assert.is(path.dirname(store), path.join(u.home, 'stores'));
  assert.is(info.host.security.rootless, true);
  assert.not.ok(fs.existsSync(store), `${store} removed`);
});

harness('snapshotTree and diffSnapshots see additions, removals and every kind of change', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-snap-'));
  try {
    fs.writeFileSync(path.join(dir, 'same'), 'same');
    fs.writeFileSync(path.join(dir, 'content'), 'one');
    fs.writeFileSync(path.join(dir, 'mode'), 'm');
    fs.writeFileSync(path.join(dir, 'gone'), 'g');
    fs.symlinkSync('/etc', path.join(dir, 'link'));
    const before = snapshotTree(dir);
    assert.equal(before.get('link')?.target, '/etc');
    assert.not.ok(before.has('link/passwd'), 'symlinks are not followed');
    fs.writeFileSync(path.join(dir, 'content'), 'two');
    fs.chmodSync(path.join(dir, 'mode'), 0o4755);
    fs.rmSync(path.join(dir, 'gone'));
    fs.writeFileSync(path.join(dir, 'new'), 'n');
    fs.rmSync(path.join(dir, 'link'));
    fs.symlinkSync('/tmp', path.join(dir, 'link'));
    const d = diffSnapshots(before, snapshotTree(dir), ['mtimeMs']);
    assert.equal(d.added, ['new']);
    assert.equal(d.removed, ['gone']);
    assert.equal(
      d.changed.map((c) => `${c.path}:${c.fields.join(',')}`).sort(),
      ['content:sha256', 'link:target', 'mode:mode'],
      describeDiff(d),
    );
    assert.ok(isEmptyDiff(diffSnapshots(before, before)));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

harness('withPty gives the command a terminal of the asked size and types the steps', async () => {
  const r = await withPty(TEST_USER, ['sh', '-c', 'tty; stty size; printf "name? "; read x; echo "got:$x"'], {
    rows: 33,
    cols: 101,
    steps: [{ expect: 'name? ', send: 'tspod\n' }],
    timeout: 10_000,
  });
  assert.is(r.code, 0, r.output);
  assert.match(r.output, /^\/dev\/pts\/\d+\r\n33 101\r\n/);
  assert.match(r.output, /got:tspod\r\n$/);
  assert.is(r.stuckAt, undefined);
});

harness('withPty reports a step that never came and stops at its timeout', async () => {
  const r = await withPty(TEST_USER, ['sh', '-c', 'sleep 20'], { steps: [{ expect: 'never', send: 'x' }], timeout: 500 });
  assert.ok(r.timedOut);
  assert.is(r.stuckAt, 0);
});

registry.run();
hostile.run();
auth.run();
users.run();
harness.run();
