// The registry client in-process against the real test registries (test/setup/registries.sh):
// plain :5000, TLS + basic auth :5001, TLS + token auth :5002. The suite pushes its own small
// images with skopeo (from an OCI layout it writes), then resolves, downloads, corrupts, breaks
// connections, logs in and out. Runs as root; the client is not rootless-specific.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import {
  closeAllAgents, Descriptor, getLogin, hostPlatform, login, logout, MediaTypes as M, openBlob, parsePlatform, pushBlob,
  pushManifest, resetRegistryState, resolveImage, RegistryOptions,
} from '../../core/registry';
import { parseReference } from '../../core/reference';
import { setLogLevel, setLogSink } from '../../core/log';
import { REPO_ROOT, WORK_DIR, REGISTRY_USER, REGISTRY_PASSWORD } from '../lib/bed';
import { tarOfFiles } from '../lib/tar';

const CERT_DIR = path.join(WORK_DIR, 'certs'); // holds ca.crt (keys live in certs/private)
const NS = 'tspod-regtest';
const CREDS = { username: REGISTRY_USER, password: REGISTRY_PASSWORD };
const BAD_CREDS = { username: REGISTRY_USER, password: 'wrong' };

// ---- a small OCI layout, written by hand ----

const sha = (b: Buffer) => 'sha256:' + crypto.createHash('sha256').update(b).digest('hex');

/** Deterministic incompressible bytes (the same every run, so pushes are no-ops after the first). */
function prng(seed: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0, off = 0; off < size; i++, off += 32) crypto.createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off);
  return out;
}

interface Img {
  manifest: Buffer;
  digest: string;
  config: Buffer;
  layer: Buffer;
  layerDesc: Descriptor;
}

const layoutDir = path.join(WORK_DIR, 'registry-e2e', 'layout');

function putBlob(data: Buffer): string {
  const d = sha(data);
  const p = path.join(layoutDir, 'blobs', 'sha256', d.slice(7));
  if (!fs.existsSync(p)) fs.writeFileSync(p, data);
  return d;
}

function image(arch: string, files: { name: string; data: Buffer }[]): Img {
  const layer = tarOfFiles(files);
  const layerDesc = { mediaType: M.ociLayer, digest: putBlob(layer), size: layer.length };
  const config = Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', config: { Cmd: ['/hello'] }, rootfs: { type: 'layers', diff_ids: [sha(layer)] } }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: M.ociManifest,
    config: { mediaType: M.ociConfig, digest: putBlob(config), size: config.length },
    layers: [layerDesc],
  }));
  return { manifest, digest: putBlob(manifest), config, layer, layerDesc };
}

fs.rmSync(layoutDir, { recursive: true, force: true });
fs.mkdirSync(path.join(layoutDir, 'blobs', 'sha256'), { recursive: true });
const tiny = image('amd64', [{ name: 'hello', data: Buffer.from('hello from amd64\n') }]);
const arm = image('arm64', [{ name: 'hello', data: Buffer.from('hello from arm64\n') }]);
const big = image('amd64', [{ name: 'big', data: prng('big', 2 << 20) }]);
const corrupt = image('amd64', [{ name: 'data', data: prng('corrupt', 64 * 1024) }]);
const index = Buffer.from(JSON.stringify({
  schemaVersion: 2,
  mediaType: M.ociIndex,
  manifests: [
    { mediaType: M.ociManifest, digest: tiny.digest, size: tiny.manifest.length, platform: { os: 'linux', architecture: 'amd64' } },
    { mediaType: M.ociManifest, digest: arm.digest, size: arm.manifest.length, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
  ],
}));
const indexDigest = putBlob(index);
const named = (name: string, mediaType: string, digest: string, size: number) =>
  ({ mediaType, digest, size, annotations: { 'org.opencontainers.image.ref.name': name } });
fs.writeFileSync(path.join(layoutDir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
fs.writeFileSync(path.join(layoutDir, 'index.json'), JSON.stringify({
  schemaVersion: 2,
  manifests: [
    named('tiny', M.ociManifest, tiny.digest, tiny.manifest.length),
    named('arm', M.ociManifest, arm.digest, arm.manifest.length),
    named('big', M.ociManifest, big.digest, big.manifest.length),
    named('corrupt', M.ociManifest, corrupt.digest, corrupt.manifest.length),
    named('multi', M.ociIndex, indexDigest, index.length),
  ],
}));

// ---- the registries and the pushes ----

function ensureRegistries(): void {
  const script = path.join(REPO_ROOT, 'test', 'setup', 'registries.sh');
  if (spawnSync('sh', [script, 'status'], { stdio: 'ignore' }).status === 0) return;
  execFileSync('sh', [script, 'start'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

function skopeoCopy(name: string, dest: string, extra: string[] = []): void {
  execFileSync('skopeo', ['--insecure-policy', 'copy', '--quiet', '--preserve-digests', ...extra, `oci:${layoutDir}:${name}`, `docker://${dest}`], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** The stored copies of a blob in the registries' storage under the work dir. */
function storedBlobFiles(digest: string): string[] {
  const hex = digest.slice(7);
  const tail = path.join('docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (fs.existsSync(path.join(dir, tail))) found.push(path.join(dir, tail));
    if (depth === 0) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(dir, e.name), depth - 1);
  };
  walk(WORK_DIR, 2);
  return found;
}

const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-reg-e2e-'));
const home = path.join(sandbox, 'home');
const runtime = path.join(sandbox, 'run');
const noConf = path.join(sandbox, 'registries.conf');
fs.mkdirSync(home);
fs.mkdirSync(runtime, { mode: 0o700 });
fs.writeFileSync(noConf, '');
const env: NodeJS.ProcessEnv = { HOME: home, XDG_RUNTIME_DIR: runtime, CONTAINERS_REGISTRIES_CONF: noConf };
const plain: RegistryOptions = { tlsVerify: false, env };
const tls: RegistryOptions = { certDir: CERT_DIR, env };
const amd64 = { os: 'linux', architecture: 'amd64' };

async function collect(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function rejects(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

test.before(() => {
  ensureRegistries();
  const to5000 = ['--dest-tls-verify=false'];
  skopeoCopy('tiny', `localhost:5000/${NS}/tiny:latest`, to5000);
  skopeoCopy('big', `localhost:5000/${NS}/big:latest`, to5000);
  skopeoCopy('corrupt', `localhost:5000/${NS}/corrupt:latest`, to5000);
  skopeoCopy('multi', `localhost:5000/${NS}/multi:latest`, [...to5000, '--all']);
  const authed = ['--dest-cert-dir', CERT_DIR, '--dest-creds', `${REGISTRY_USER}:${REGISTRY_PASSWORD}`];
  skopeoCopy('tiny', `localhost:5001/${NS}/private:latest`, authed);
  skopeoCopy('tiny', `localhost:5002/private/${NS}:latest`, authed);
  skopeoCopy('tiny', `localhost:5002/public/${NS}:latest`, authed);
  // The corrupt image's only layer is its own (seeded content): make the registry serve other
  // bytes of the same length for it, as a tampered or damaged storage would.
  const files = storedBlobFiles(corrupt.layerDesc.digest);
  if (files.length === 0) throw new Error(`cannot find the stored layer ${corrupt.layerDesc.digest} under ${WORK_DIR}`);
  const bad = Buffer.from(corrupt.layer);
  bad[bad.length - 2000] ^= 0xff;
  for (const f of files) fs.writeFileSync(f, bad);
});

test.before.each(() => resetRegistryState());

test.after(() => {
  closeAllAgents();
  fs.rmSync(sandbox, { recursive: true, force: true });
});

// ---- resolving and downloading ----

test('resolve by tag and by digest: manifest, digest, config and layers as pushed', async () => {
  const byTag = await resolveImage(parseReference(`localhost:5000/${NS}/tiny`), amd64, plain);
  assert.is(byTag.manifestDigest, tiny.digest);
  assert.ok(byTag.manifest.equals(tiny.manifest));
  assert.is(byTag.manifestMediaType, M.ociManifest);
  assert.is(byTag.configDigest, sha(tiny.config));
  assert.ok(byTag.config.equals(tiny.config));
  assert.equal(byTag.layers, [tiny.layerDesc]);
  assert.is(byTag.indexDigest, undefined);
  const byDigest = await resolveImage(parseReference(`localhost:5000/${NS}/tiny@${tiny.digest}`), amd64, plain);
  assert.is(byDigest.manifestDigest, tiny.digest);
  assert.equal(byDigest.layers, byTag.layers);
});

test('a layer streams with its exact bytes', async () => {
  const ref = parseReference(`localhost:5000/${NS}/tiny`);
  assert.ok((await collect(await openBlob(ref, tiny.layerDesc, plain))).equals(tiny.layer));
});

test('an index: the host platform by default, --platform picks another, no match lists what exists', async () => {
  const ref = parseReference(`localhost:5000/${NS}/multi`);
  const host = hostPlatform();
  if (host.architecture === 'amd64' || host.architecture === 'arm64') {
    const r = await resolveImage(ref, host, plain);
    assert.is(r.manifestDigest, host.architecture === 'amd64' ? tiny.digest : arm.digest);
  }
  const a = await resolveImage(ref, parsePlatform('linux/arm64'), plain);
  assert.is(a.manifestDigest, arm.digest);
  assert.is(a.indexDigest, indexDigest);
  assert.ok(a.index!.equals(index));
  assert.ok(a.config.equals(arm.config));
  const x = await resolveImage(ref, parsePlatform('linux/amd64'), plain);
  assert.is(x.manifestDigest, tiny.digest);
  const byIndexDigest = await resolveImage(parseReference(`localhost:5000/${NS}/multi@${indexDigest}`), parsePlatform('linux/arm64/v8'), plain);
  assert.is(byIndexDigest.manifestDigest, arm.digest);
  const e = await rejects(resolveImage(ref, parsePlatform('linux/s390x'), plain));
  assert.is(
    e.message,
    `choosing an image from manifest list docker://localhost:5000/${NS}/multi:latest: no image found in manifest list for architecture s390x, variant "", OS linux (the image is available for linux/amd64, linux/arm64/v8; choose one with --platform)`,
  );
});

test('a corrupted blob in the registry storage is refused at the end with both digests', async () => {
  const ref = parseReference(`localhost:5000/${NS}/corrupt`);
  const r = await resolveImage(ref, amd64, plain);
  const s = await openBlob(ref, r.layers[0], plain);
  const e = await rejects(collect(s));
  assert.match(e.message, new RegExp(`^reading blob ${corrupt.layerDesc.digest} in localhost:5000/${NS}/corrupt: digest mismatch: expected ${corrupt.layerDesc.digest}, got sha256:[0-9a-f]{64}$`));
  assert.is.not(e.message.slice(-71), corrupt.layerDesc.digest);
});

test('podman errors: no such image, unreachable registry, HTTP registry without --tls-verify=false', async () => {
  let e = await rejects(resolveImage(parseReference('localhost:5000/nosuch'), amd64, plain));
  assert.is(e.message, 'initializing source docker://localhost:5000/nosuch:latest: reading manifest latest in localhost:5000/nosuch: manifest unknown: manifest unknown');
  assert.is((e as Error & { exitCode: number }).exitCode, 125);

  const port = await freePort();
  e = await rejects(resolveImage(parseReference(`localhost:${port}/x`), amd64, { env }));
  assert.is(
    e.message,
    `initializing source docker://localhost:${port}/x:latest: pinging container registry localhost:${port}: Get "https://localhost:${port}/v2/": dial tcp 127.0.0.1:${port}: connect: connection refused`,
  );

  e = await rejects(resolveImage(parseReference(`localhost:5000/${NS}/tiny`), amd64, { env }));
  assert.is(
    e.message,
    `initializing source docker://localhost:5000/${NS}/tiny:latest: pinging container registry localhost:5000: Get "https://localhost:5000/v2/": http: server gave HTTP response to HTTPS client`,
  );
});

test('registries.conf: insecure = true allows plain HTTP; blocked = true refuses', async () => {
  const conf = path.join(sandbox, 'insecure.conf');
  fs.writeFileSync(conf, '[[registry]]\nlocation = "localhost:5000"\ninsecure = true\n\n[[registry]]\nprefix = "localhost:5000/blocked"\nlocation = "localhost:5000/blocked"\nblocked = true\n');
  const e2 = { ...env, CONTAINERS_REGISTRIES_CONF: conf };
  const r = await resolveImage(parseReference(`localhost:5000/${NS}/tiny`), amd64, { env: e2 });
  assert.is(r.manifestDigest, tiny.digest);
  const e = await rejects(resolveImage(parseReference('localhost:5000/blocked/x'), amd64, { env: e2 }));
  assert.is(e.message, `initializing source docker://localhost:5000/blocked/x:latest: registry localhost:5000/blocked is blocked in ${conf}`);
});

// ---- TLS and basic auth (:5001) ----

const onSystemTrust = ['/etc/containers/certs.d/localhost:5001', '/etc/docker/certs.d/localhost:5001'].some((d) => fs.existsSync(d));

test('TLS: the test CA via certDir or ~/.config/containers/certs.d; unknown authority without', async () => {
  const ref = parseReference(`localhost:5001/${NS}/private`);
  assert.is((await resolveImage(ref, amd64, { ...tls, credentials: CREDS })).manifestDigest, tiny.digest);
  if (!onSystemTrust) {
    const e = await rejects(resolveImage(ref, amd64, { env, credentials: CREDS }));
    assert.is(e.message, `initializing source docker://localhost:5001/${NS}/private:latest: pinging container registry localhost:5001: Get "https://localhost:5001/v2/": x509: certificate signed by unknown authority`);
  }
  const userCerts = path.join(home, '.config', 'containers', 'certs.d', 'localhost:5001');
  fs.mkdirSync(userCerts, { recursive: true });
  fs.copyFileSync(path.join(CERT_DIR, 'ca.crt'), path.join(userCerts, 'ca.crt'));
  try {
    resetRegistryState();
    assert.is((await resolveImage(ref, amd64, { env, credentials: CREDS })).manifestDigest, tiny.digest);
  } finally {
    fs.rmSync(path.join(home, '.config', 'containers', 'certs.d'), { recursive: true });
  }
  // --tls-verify=false skips verification altogether.
  resetRegistryState();
  assert.is((await resolveImage(ref, amd64, { env, tlsVerify: false, credentials: CREDS })).manifestDigest, tiny.digest);
});

test('basic auth: right credentials pull; wrong or none get the registry refusal', async () => {
  const ref = parseReference(`localhost:5001/${NS}/private`);
  const r = await resolveImage(ref, amd64, { ...tls, credentials: CREDS });
  assert.ok((await collect(await openBlob(ref, r.layers[0], { ...tls, credentials: CREDS }))).equals(tiny.layer));
  const want = `initializing source docker://localhost:5001/${NS}/private:latest: reading manifest latest in localhost:5001/${NS}/private: unauthorized: authentication required`;
  assert.is((await rejects(resolveImage(ref, amd64, { ...tls, credentials: BAD_CREDS }))).message, want);
  assert.is((await rejects(resolveImage(ref, amd64, tls))).message, want);
  const e = await rejects(openBlob(ref, r.layers[0], tls));
  assert.is(e.message, `reading blob ${r.layers[0].digest} in localhost:5001/${NS}/private: unauthorized: authentication required`);
});

// ---- token auth (:5002) ----

async function issued(): Promise<Record<string, number>> {
  const res = await fetch('http://127.0.0.1:5003/issued');
  return (await res.json()) as Record<string, number>;
}

test('token auth: anonymous pull of public/*, one token per scope for the process', async () => {
  const ref = parseReference(`localhost:5002/public/${NS}`);
  const key = `|repository:public/${NS}:pull`;
  const before = (await issued())[key] ?? 0;
  const r = await resolveImage(ref, amd64, tls);
  assert.is(r.manifestDigest, tiny.digest);
  assert.ok((await collect(await openBlob(ref, r.layers[0], tls))).equals(tiny.layer));
  await resolveImage(ref, amd64, tls);
  assert.is((await issued())[key], before + 1);
});

test('token auth: private/* is denied without credentials, allowed with them, wrong ones are named', async () => {
  const ref = parseReference(`localhost:5002/private/${NS}`);
  let e = await rejects(resolveImage(ref, amd64, tls));
  assert.is(e.message, `initializing source docker://localhost:5002/private/${NS}:latest: reading manifest latest in localhost:5002/private/${NS}: denied: requested access to the resource is denied`);
  const r = await resolveImage(ref, amd64, { ...tls, credentials: CREDS });
  assert.is(r.manifestDigest, tiny.digest);
  assert.ok((await collect(await openBlob(ref, r.layers[0], { ...tls, credentials: CREDS }))).equals(tiny.layer));
  e = await rejects(resolveImage(ref, amd64, { ...tls, credentials: BAD_CREDS }));
  assert.is(e.message, `initializing source docker://localhost:5002/private/${NS}:latest: unable to retrieve auth token: invalid username/password: unauthorized: incorrect username or password`);
});

test('push through token auth: pull,push for tester, denied anonymously', async () => {
  // A new repository each run: a registry answers HEAD for blobs linked to the repository only.
  const ref = parseReference(`localhost:5002/private/${NS}-pushed-${Date.now().toString(36)}:v1`);
  const opts = { ...tls, credentials: CREDS };
  assert.equal(await pushBlob(ref, tiny.layerDesc, tiny.layer, opts), { uploaded: true });
  assert.equal(await pushBlob(ref, tiny.layerDesc, () => Readable.from([tiny.layer]), opts), { uploaded: false });
  const cfg = { mediaType: M.ociConfig, digest: sha(tiny.config), size: tiny.config.length };
  await pushBlob(ref, cfg, () => Readable.from([tiny.config]), opts);
  assert.is(await pushManifest(ref, tiny.manifest, M.ociManifest, opts), tiny.digest);
  assert.is((await resolveImage(ref, amd64, opts)).manifestDigest, tiny.digest);
  const e = await rejects(pushManifest(parseReference(`localhost:5002/public/${NS}-nope:v1`), tiny.manifest, M.ociManifest, tls));
  assert.is(e.message, `writing manifest v1 to localhost:5002/public/${NS}-nope: denied: requested access to the resource is denied`);
});

// ---- login / logout ----

test('login checks the credentials, writes auth.json 0600 keeping other entries; logout removes', async () => {
  const authFile = path.join(runtime, 'containers', 'auth.json');
  fs.mkdirSync(path.dirname(authFile), { recursive: true });
  fs.writeFileSync(authFile, JSON.stringify({ auths: { 'other.example': { auth: 'b3RoZXI6cHc=' } } }));

  let e = await rejects(login('localhost:5001', BAD_CREDS, tls));
  assert.is(e.message, 'logging into "localhost:5001": invalid username/password');
  assert.equal(Object.keys(JSON.parse(fs.readFileSync(authFile, 'utf8')).auths), ['other.example']);

  const r = await login('localhost:5001', CREDS, tls);
  assert.equal(r, { key: 'localhost:5001', authFile, message: 'Login Succeeded!' });
  assert.is(fs.statSync(authFile).mode & 0o777, 0o600);
  const auths = JSON.parse(fs.readFileSync(authFile, 'utf8')).auths;
  assert.equal(auths['localhost:5001'], { auth: Buffer.from(`${REGISTRY_USER}:${REGISTRY_PASSWORD}`).toString('base64') });
  assert.ok(auths['other.example']);
  assert.is(getLogin('localhost:5001', { env }), REGISTRY_USER);

  // Pulls now find the credentials in auth.json.
  const ref = parseReference(`localhost:5001/${NS}/private`);
  assert.is((await resolveImage(ref, amd64, tls)).manifestDigest, tiny.digest);

  e = await rejects(login('localhost:5002', BAD_CREDS, tls));
  assert.is(e.message, 'logging into "localhost:5002": invalid username/password');
  await login('localhost:5002', CREDS, tls);
  assert.is((await resolveImage(parseReference(`localhost:5002/private/${NS}`), amd64, tls)).manifestDigest, tiny.digest);

  if (!onSystemTrust) {
    e = await rejects(login('localhost:5001', CREDS, { env }));
    assert.is(e.message, 'authenticating creds for "localhost:5001": pinging container registry localhost:5001: Get "https://localhost:5001/v2/": x509: certificate signed by unknown authority');
  }

  assert.is((await login('localhost:5000', CREDS, plain)).message, 'Login Succeeded!');

  assert.is(await logout('localhost:5001', { env }), 'Removed login credentials for localhost:5001');
  assert.is((await rejects(logout('localhost:5001', { env }))).message, 'not logged into localhost:5001');
  assert.is((await rejects(resolveImage(ref, amd64, tls))).message, `initializing source docker://localhost:5001/${NS}/private:latest: reading manifest latest in localhost:5001/${NS}/private: unauthorized: authentication required`);
  assert.is(await logout(undefined, { env }), 'Removed login credentials for all registries');
  assert.equal(JSON.parse(fs.readFileSync(authFile, 'utf8')).auths, {});
});

test('login with --authfile writes there and nowhere else', async () => {
  const own = path.join(sandbox, 'own', 'auth.json');
  const r = await login('localhost:5001', CREDS, { ...tls, authFile: own });
  assert.is(r.authFile, own);
  assert.is(fs.statSync(own).mode & 0o777, 0o600);
  assert.is(getLogin('localhost:5001', { env, authFile: own }), REGISTRY_USER);
  assert.throws(() => getLogin('localhost:5001', { env }), /not logged into localhost:5001/);
});

// ---- a broken connection, resumed ----

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A TCP proxy in front of 127.0.0.1:5000 that resets the client connection once it has carried
 * `cutAfter` bytes towards the client, `cuts` times; after the first cut it also refuses
 * connections for a moment. It notes the Range headers it sees going to the registry.
 */
async function breakingProxy(cutAfter: number, cuts: number) {
  const ranges: string[] = [];
  const sockets = new Set<net.Socket>();
  let remaining = cuts;
  let refusedOnce = false;
  const server = net.createServer((client) => {
    sockets.add(client);
    const upstream = net.connect(5000, '127.0.0.1');
    let down = 0;
    client.on('data', (d: Buffer) => {
      for (const m of d.toString('latin1').matchAll(/\r\nRange: (bytes=\d+-)\r\n/gi)) ranges.push(m[1]);
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      down += d.length;
      if (remaining > 0 && down > cutAfter) {
        remaining--;
        client.write(d.subarray(0, d.length - (down - cutAfter)));
        upstream.destroy();
        client.resetAndDestroy();
        if (!refusedOnce) {
          refusedOnce = true;
          for (const s of sockets) s.resetAndDestroy();
          server.close();
          setTimeout(() => server.listen(port, '127.0.0.1'), 400);
        }
        return;
      }
      client.write(d);
    });
    const end = () => {
      sockets.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    port,
    ranges,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}

test('a connection reset mid-blob (and a refused reconnect) is resumed with Range', async () => {
  const proxy = await breakingProxy(512 * 1024, 2);
  const lines: string[] = [];
  setLogSink((l) => lines.push(l));
  setLogLevel('debug');
  try {
    const ref = parseReference(`127.0.0.1:${proxy.port}/${NS}/big`);
    const r = await resolveImage(ref, amd64, plain);
    let last = 0;
    const got = await collect(await openBlob(ref, r.layers[0], { ...plain, onProgress: (n) => (last = n) }));
    assert.is(got.length, big.layer.length);
    assert.is(sha(got), big.layerDesc.digest);
    assert.is(last, big.layer.length);
    assert.ok(proxy.ranges.length >= 2, `Range requests seen: ${proxy.ranges.join(', ')}`);
    assert.ok(proxy.ranges.every((h) => /^bytes=[1-9]\d*-$/.test(h)), proxy.ranges.join(', '));
    const resumes = lines.filter((l) => /reading blob .*; resuming at byte/.test(l));
    assert.ok(resumes.some((l) => /connection reset by peer|unexpected EOF/.test(l)), resumes.join('\n'));
    assert.ok(resumes.some((l) => /connect: connection refused/.test(l)), resumes.join('\n'));
  } finally {
    setLogLevel('warn');
    setLogSink((l) => process.stderr.write(l + '\n'));
    await proxy.close();
  }
});

test.run();
