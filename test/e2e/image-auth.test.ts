// Registries that want credentials: :5001 (HTTPS, basic auth) and :5002 (HTTPS, bearer tokens
// from the token server). Wrong or missing credentials fail with one clear line; `login` checks
// and stores them in $XDG_RUNTIME_DIR/containers/auth.json (0600), pulls use them, `logout`
// removes them. Each test has its own runtime directory, so no other suite's login leaks in.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CA_CERT, fixtures, REGISTRY_PASSWORD, REGISTRY_USER, RunResult, TEST_USER, TLS_REGISTRY, TOKEN_REGISTRY, userInfo, withStore } from '../lib';
import { assertOneLineError, show } from './image-helpers';

const CERT_DIR = path.dirname(CA_CERT);
const CREDS = `${REGISTRY_USER}:${REGISTRY_PASSWORD}`;
const bb = () => fixtures().images.busybox;

/** A private runtime directory for one test (0700, the user's), removed afterwards. */
async function withRuntimeDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const me = userInfo(TEST_USER);
  const dir = `/tmp/tspod-e2e-auth-${me.uid}-${crypto.randomBytes(4).toString('hex')}`;
  fs.mkdirSync(dir, { mode: 0o700 });
  fs.chownSync(dir, me.uid, me.gid);
  try {
    return await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

type Run = (args: string[], opts?: { input?: string }) => Promise<RunResult>;

/**
 * tspod with a fresh store and the given runtime directory; the other places credentials are read
 * from (XDG_CONFIG_HOME, DOCKER_CONFIG) point into it too, where nothing exists.
 */
async function withAuthEnv(fn: (run: Run, runtimeDir: string) => Promise<void>): Promise<void> {
  await withRuntimeDir((rt) => {
    const env = { XDG_RUNTIME_DIR: rt, XDG_CONFIG_HOME: path.join(rt, 'config'), DOCKER_CONFIG: path.join(rt, 'docker'), REGISTRY_AUTH_FILE: undefined };
    return withStore(TEST_USER, (run) => fn((args, opts) => run(args, { env, ...opts }), rt));
  });
}

function authFile(rt: string): string {
  return path.join(rt, 'containers', 'auth.json');
}

// ---------------------------------------------------------------------------------------------
const refused = suite('wrong or missing credentials');

refused('basic auth (:5001): no credentials, wrong credentials: exit 125, one line naming the registry', async () => {
  await withAuthEnv(async (run) => {
    const ref = `${TLS_REGISTRY}/private/busybox`;
    const none = await run(['pull', '--cert-dir', CERT_DIR, ref]);
    const a = assertOneLineError(none, /localhost:5001/);
    assert.match(a, /unauthorized|authentication required/);
    const wrong = await run(['pull', '--cert-dir', CERT_DIR, '--creds', `${REGISTRY_USER}:wrong`, ref]);
    const b = assertOneLineError(wrong, /localhost:5001/);
    assert.match(b, /unauthorized|authentication required|invalid username\/password/);
    assert.is(none.stdout + wrong.stdout, '');
  });
});

refused('token auth (:5002): wrong credentials and anonymous access to a private repository', async () => {
  await withAuthEnv(async (run) => {
    const wrong = await run(['pull', '--cert-dir', CERT_DIR, '--creds', `${REGISTRY_USER}:wrong`, `${TOKEN_REGISTRY}/private/busybox`]);
    const a = assertOneLineError(wrong, /localhost:5002/);
    assert.match(a, /invalid username\/password|unauthorized/);
    const anon = await run(['pull', '--cert-dir', CERT_DIR, `${TOKEN_REGISTRY}/private/busybox`]);
    const b = assertOneLineError(anon, /localhost:5002/);
    assert.match(b, /denied|unauthorized/);
    // Anonymous pull-only tokens are enough for public/*.
    const pub = await run(['pull', '-q', '--cert-dir', CERT_DIR, `${TOKEN_REGISTRY}/public/busybox`]);
    assert.is(pub.code, 0, show(pub));
    assert.is(pub.stdout, `${bb().imageId}\n`);
  });
});

refused('--creds with the right password works without logging in', async () => {
  await withAuthEnv(async (run, rt) => {
    const r = await run(['pull', '-q', '--cert-dir', CERT_DIR, '--creds', CREDS, `${TLS_REGISTRY}/private/busybox`]);
    assert.is(r.code, 0, show(r));
    assert.is(r.stdout, `${bb().imageId}\n`);
    assert.not.ok(fs.existsSync(authFile(rt)), '--creds stores nothing');
  });
});

refused('the test CA is needed: without --cert-dir the certificate is refused', async () => {
  await withAuthEnv(async (run) => {
    const r = await run(['pull', '--creds', CREDS, `${TLS_REGISTRY}/private/busybox`]);
    const line = assertOneLineError(r, /localhost:5001/);
    assert.match(line, /certificate|x509/);
  });
});

// ---------------------------------------------------------------------------------------------
const session = suite('login, pull, logout');

session('login --password-stdin to :5001 stores auth.json 0600; pull works; logout removes it; logout again errors', async () => {
  await withAuthEnv(async (run, rt) => {
    const bad = await run(['login', '-u', REGISTRY_USER, '--password-stdin', '--cert-dir', CERT_DIR, TLS_REGISTRY], { input: 'wrong\n' });
    const line = assertOneLineError(bad, /localhost:5001/);
    assert.match(line, /invalid username\/password|unauthorized/);
    assert.not.ok(fs.existsSync(authFile(rt)), 'a failed login stores nothing');

    const li = await run(['login', '-u', REGISTRY_USER, '--password-stdin', '--cert-dir', CERT_DIR, TLS_REGISTRY], { input: `${REGISTRY_PASSWORD}\n` });
    assert.is(li.code, 0, show(li));
    assert.is(li.stdout, 'Login Succeeded!\n');
    const st = fs.statSync(authFile(rt));
    assert.is(st.mode & 0o777, 0o600);
    assert.is(st.uid, userInfo(TEST_USER).uid);
    const auth = JSON.parse(fs.readFileSync(authFile(rt), 'utf8'));
    assert.is(Buffer.from(auth.auths[TLS_REGISTRY].auth, 'base64').toString(), CREDS);
    assert.not.ok(fs.readFileSync(authFile(rt), 'utf8').includes(REGISTRY_PASSWORD), 'not in clear text');

    const pull = await run(['pull', '-q', '--cert-dir', CERT_DIR, `${TLS_REGISTRY}/private/busybox`]);
    assert.is(pull.code, 0, show(pull));
    assert.is(pull.stdout, `${bb().imageId}\n`);
    const who = await run(['login', '--get-login', TLS_REGISTRY]);
    assert.is(who.stdout, `${REGISTRY_USER}\n`);

    const lo = await run(['logout', TLS_REGISTRY]);
    assert.is(lo.code, 0, show(lo));
    assert.is(lo.stdout, `Removed login credentials for ${TLS_REGISTRY}\n`);
    const left = fs.existsSync(authFile(rt)) ? JSON.parse(fs.readFileSync(authFile(rt), 'utf8')) : { auths: {} };
    assert.not.ok(TLS_REGISTRY in (left.auths ?? {}), 'the entry is gone');
    const again = await run(['logout', TLS_REGISTRY]);
    assertOneLineError(again, /not logged into localhost:5001/);
    const denied = await run(['pull', '--cert-dir', CERT_DIR, `${TLS_REGISTRY}/private/busybox`]);
    assertOneLineError(denied, /localhost:5001/);
  });
});

session('login to the token registry (:5002): private pulls work; logout of one registry keeps the other', async () => {
  await withAuthEnv(async (run, rt) => {
    for (const reg of [TLS_REGISTRY, TOKEN_REGISTRY]) {
      const li = await run(['login', '-u', REGISTRY_USER, '--password-stdin', '--cert-dir', CERT_DIR, reg], { input: REGISTRY_PASSWORD });
      assert.is(li.code, 0, show(li));
    }
    const pull = await run(['pull', '-q', '--cert-dir', CERT_DIR, `${TOKEN_REGISTRY}/private/busybox`]);
    assert.is(pull.code, 0, show(pull));
    assert.is(pull.stdout, `${bb().imageId}\n`);
    assert.equal(Object.keys(JSON.parse(fs.readFileSync(authFile(rt), 'utf8')).auths).sort(), [TLS_REGISTRY, TOKEN_REGISTRY]);
    assert.is((await run(['logout', TLS_REGISTRY])).code, 0);
    assert.equal(Object.keys(JSON.parse(fs.readFileSync(authFile(rt), 'utf8')).auths), [TOKEN_REGISTRY]);
    const lo = await run(['logout', '--all']);
    assert.is(lo.code, 0, show(lo));
    const rest = fs.existsSync(authFile(rt)) ? JSON.parse(fs.readFileSync(authFile(rt), 'utf8')).auths ?? {} : {};
    assert.equal(Object.keys(rest), []);
    assertOneLineError(await run(['pull', '--cert-dir', CERT_DIR, `${TOKEN_REGISTRY}/private/busybox`]), /localhost:5002/);
  });
});

session('login errors: --password-stdin needs --username; a bad password on the token registry', async () => {
  await withAuthEnv(async (run, rt) => {
    assertOneLineError(await run(['login', '--password-stdin', TLS_REGISTRY], { input: 'x' }), /username/);
    const bad = await run(['login', '-u', REGISTRY_USER, '--password-stdin', '--cert-dir', CERT_DIR, TOKEN_REGISTRY], { input: 'wrong' });
    assertOneLineError(bad, /localhost:5002/);
    assert.not.ok(fs.existsSync(authFile(rt)));
  });
});

refused.run();
session.run();
