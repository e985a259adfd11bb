import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  authFilePaths, credentialsKey, findCredentials, lookupCredentials, normalizeAuthKey, primaryAuthFile, storeCredentials,
} from '../../core/registry/authfile';
import { getLogin, logout } from '../../core/registry/login';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function sandbox() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-auth-'));
  const home = path.join(root, 'home');
  const run = path.join(root, 'run');
  fs.mkdirSync(home);
  fs.mkdirSync(run, { mode: 0o700 });
  const env: NodeJS.ProcessEnv = { HOME: home, XDG_RUNTIME_DIR: run };
  const files = {
    runtime: path.join(run, 'containers', 'auth.json'),
    config: path.join(home, '.config', 'containers', 'auth.json'),
    docker: path.join(home, '.docker', 'config.json'),
    dockercfg: path.join(home, '.dockercfg'),
  };
  const write = (file: string, value: unknown) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  };
  return { root, env, files, write, done: () => fs.rmSync(root, { recursive: true, force: true }) };
}

test('search order: runtime auth.json, ~/.config/containers, ~/.docker/config.json, ~/.dockercfg', () => {
  const s = sandbox();
  try {
    assert.equal(authFilePaths({ env: s.env }).map((p) => p.path), [s.files.runtime, s.files.config, s.files.docker, s.files.dockercfg]);
    s.write(s.files.dockercfg, { 'r.example': { auth: b64('legacy:1') } });
    assert.equal(findCredentials('r.example', { env: s.env }), { username: 'legacy', password: '1' });
    s.write(s.files.docker, { auths: { 'r.example': { auth: b64('docker:2') } } });
    assert.is(findCredentials('r.example', { env: s.env })?.username, 'docker');
    s.write(s.files.config, { auths: { 'r.example': { auth: b64('config:3') } } });
    assert.is(findCredentials('r.example', { env: s.env })?.username, 'config');
    s.write(s.files.runtime, { auths: { 'r.example': { auth: b64('runtime:4') } } });
    assert.equal(lookupCredentials('r.example', { env: s.env }), { credentials: { username: 'runtime', password: '4' }, file: s.files.runtime, key: 'r.example' });
    assert.is(findCredentials('other.example', { env: s.env }), undefined);
  } finally {
    s.done();
  }
});

test('$DOCKER_CONFIG replaces ~/.docker; XDG_CONFIG_HOME moves ~/.config', () => {
  const s = sandbox();
  try {
    const env = { ...s.env, DOCKER_CONFIG: path.join(s.root, 'dc'), XDG_CONFIG_HOME: path.join(s.root, 'xdg') };
    const paths = authFilePaths({ env }).map((p) => p.path);
    assert.ok(paths.includes(path.join(s.root, 'dc', 'config.json')));
    assert.ok(paths.includes(path.join(s.root, 'xdg', 'containers', 'auth.json')));
    assert.not.ok(paths.includes(s.files.docker));
  } finally {
    s.done();
  }
});

test('--authfile and $REGISTRY_AUTH_FILE are the only file read and written', () => {
  const s = sandbox();
  try {
    s.write(s.files.runtime, { auths: { 'r.example': { auth: b64('runtime:x') } } });
    const own = path.join(s.root, 'own.json');
    assert.is(findCredentials('r.example', { env: s.env, authFile: own }), undefined);
    assert.is(primaryAuthFile({ env: s.env, authFile: own }), own);
    const env = { ...s.env, REGISTRY_AUTH_FILE: own };
    assert.equal(authFilePaths({ env }).map((p) => p.path), [own]);
    s.write(own, { auths: { 'r.example': { auth: b64('own:y') } } });
    assert.is(findCredentials('r.example', { env })?.username, 'own');
    const explicit = path.join(s.root, 'explicit.json');
    assert.is(primaryAuthFile({ env, authFile: explicit }), explicit);
  } finally {
    s.done();
  }
});

test('docker.io keys written as URLs or by other host names match', () => {
  const s = sandbox();
  try {
    s.write(s.files.docker, { auths: { 'https://index.docker.io/v1/': { auth: b64('hub:pw') } } });
    assert.equal(findCredentials('docker.io', { env: s.env }), { username: 'hub', password: 'pw' });
    assert.equal(findCredentials('docker.io/library/busybox', { env: s.env }), { username: 'hub', password: 'pw' });
    s.write(s.files.docker, { auths: { 'http://r.example:5000/v2/': { auth: b64('u:p') }, 'registry-1.docker.io': { auth: b64('hub2:pw') } } });
    assert.is(findCredentials('r.example:5000', { env: s.env })?.username, 'u');
    assert.is(findCredentials('docker.io', { env: s.env })?.username, 'hub2');
    assert.is(normalizeAuthKey('https://index.docker.io/v1/'), 'docker.io');
    assert.is(normalizeAuthKey('localhost:5001'), 'localhost:5001');
  } finally {
    s.done();
  }
});

test('namespace keys: most specific first, exact matches only', () => {
  const s = sandbox();
  try {
    s.write(s.files.runtime, {
      auths: {
        'r.example': { auth: b64('host:1') },
        'r.example/team': { auth: b64('team:2') },
        'r.example/team/app': { auth: b64('app:3') },
      },
    });
    const who = (n: string) => findCredentials(n, { env: s.env })?.username;
    assert.is(who('r.example/team/app'), 'app');
    assert.is(who('r.example/team/other'), 'team');
    assert.is(who('r.example/teamx/app'), 'host');
    assert.is(who('r.example'), 'host');
    assert.is(who('r.example:5000/team/app'), undefined);
  } finally {
    s.done();
  }
});

test('a password may contain colons; identity tokens and empty entries are skipped', () => {
  const s = sandbox();
  try {
    s.write(s.files.runtime, { auths: { a: { auth: b64('u:p:a:ss') }, b: { identitytoken: 'xyz' }, c: {} } });
    s.write(s.files.config, { auths: { b: { auth: b64('fromconfig:1') } } });
    assert.equal(findCredentials('a', { env: s.env }), { username: 'u', password: 'p:a:ss' });
    assert.is(findCredentials('b', { env: s.env })?.username, 'fromconfig');
    assert.is(findCredentials('c', { env: s.env }), undefined);
  } finally {
    s.done();
  }
});

test('broken auth files are reported with their path, not ignored', () => {
  const s = sandbox();
  try {
    s.write(s.files.runtime, '{"auths": {');
    assert.throws(() => findCredentials('r.example', { env: s.env }), (e: Error) => e.message.startsWith(`reading JSON file "${s.files.runtime}": `));
    s.write(s.files.runtime, '[1]');
    assert.throws(() => findCredentials('r.example', { env: s.env }), /expected a JSON object/);
    s.write(s.files.runtime, { auths: { 'r.example': { auth: b64('no-colon') } } });
    assert.throws(() => findCredentials('r.example', { env: s.env }), /invalid auth configuration file .*r\.example/);
    s.write(s.files.runtime, '');
    assert.is(findCredentials('r.example', { env: s.env }), undefined);
  } finally {
    s.done();
  }
});

test('storing keeps other entries and fields, writes mode 0600 in a 0700 directory, atomically', () => {
  const s = sandbox();
  try {
    s.write(s.files.runtime, { auths: { 'other:1': { auth: b64('o:p') } }, credHelpers: { 'x.example': 'pass' } });
    fs.chmodSync(s.files.runtime, 0o644);
    const file = storeCredentials('localhost:5001', { username: 'tester', password: 'secret-pass' }, { env: s.env });
    assert.is(file, s.files.runtime);
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(doc, { auths: { 'other:1': { auth: b64('o:p') }, 'localhost:5001': { auth: b64('tester:secret-pass') } }, credHelpers: { 'x.example': 'pass' } });
    assert.is(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.readdirSync(path.dirname(file)), ['auth.json']);
    // A fresh file in a fresh directory.
    const fresh = path.join(s.root, 'new', 'dir', 'auth.json');
    storeCredentials('r.example', { username: 'a', password: 'b' }, { env: s.env, authFile: fresh });
    assert.is(fs.statSync(fresh).mode & 0o777, 0o600);
    assert.is(fs.statSync(path.dirname(fresh)).mode & 0o777, 0o700);
    assert.match(fs.readFileSync(fresh, 'utf8'), /^\{\n\t"auths": \{\n\t\t"r\.example": \{\n\t\t\t"auth": /);
  } finally {
    s.done();
  }
});

test('storing over a broken file refuses rather than losing its entries', () => {
  const s = sandbox();
  try {
    s.write(s.files.runtime, '{broken');
    assert.throws(() => storeCredentials('r', { username: 'a', password: 'b' }, { env: s.env }), /reading JSON file/);
    assert.is(fs.readFileSync(s.files.runtime, 'utf8'), '{broken');
  } finally {
    s.done();
  }
});

test('logout: podman messages; not logged in is an error; --all empties the file', async () => {
  const s = sandbox();
  try {
    storeCredentials('localhost:5001', { username: 'tester', password: 'x' }, { env: s.env });
    storeCredentials('localhost:5002', { username: 'tester', password: 'y' }, { env: s.env });
    assert.is(getLogin('localhost:5001', { env: s.env }), 'tester');
    assert.is(await logout('localhost:5001', { env: s.env }), 'Removed login credentials for localhost:5001');
    assert.equal(Object.keys(JSON.parse(fs.readFileSync(s.files.runtime, 'utf8')).auths), ['localhost:5002']);
    await logout('localhost:5001', { env: s.env }).then(
      () => assert.unreachable(),
      (e: Error) => assert.is(e.message, 'not logged into localhost:5001'),
    );
    assert.throws(() => getLogin('localhost:5001', { env: s.env }), /^not logged into localhost:5001$/);
    assert.is(await logout('https://localhost:5002/', { env: s.env }), 'Removed login credentials for localhost:5002');
    storeCredentials('a.example', { username: 'u', password: 'p' }, { env: s.env });
    assert.is(await logout(undefined, { env: s.env }), 'Removed login credentials for all registries');
    assert.equal(JSON.parse(fs.readFileSync(s.files.runtime, 'utf8')), { auths: {} });
  } finally {
    s.done();
  }
});

test('logout of credentials only docker holds says so, as podman does', async () => {
  const s = sandbox();
  try {
    s.write(s.files.docker, { auths: { 'r.example': { auth: b64('d:p') } } });
    assert.match(await logout('r.example', { env: s.env }), /^Not logged into r\.example with current tool\. .*docker logout/);
    assert.is(fs.existsSync(s.files.docker), true);
  } finally {
    s.done();
  }
});

test('credentials keys from login arguments', () => {
  assert.equal(credentialsKey('localhost:5001'), { key: 'localhost:5001', registry: 'localhost:5001' });
  assert.equal(credentialsKey('https://localhost:5001/v2/'), { key: 'localhost:5001', registry: 'localhost:5001' });
  assert.equal(credentialsKey('quay.io/team/app'), { key: 'quay.io/team/app', registry: 'quay.io' });
  assert.equal(credentialsKey('[::1]:5000'), { key: '[::1]:5000', registry: '[::1]:5000' });
  for (const bad of ['', ' ', 'quay.io/team/app:tag', 'quay.io/App', 'bad host', 'a/b@sha256:00', '-x.example', 'x.example:port']) {
    assert.throws(() => credentialsKey(bad), /invalid registry/, bad);
  }
});

test.run();
