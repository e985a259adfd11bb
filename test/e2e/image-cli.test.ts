// The command line around the image verbs: global options (--root, --log-level), help for every
// verb and noun, --version / version / info, the noun forms (image ls/rm/pull), and how usage
// errors look (one line, exit 125, no stack trace).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fixtures, freshStore, REGISTRY, REPO_ROOT, removeStore, RunResult, TEST_USER, tspod, userInfo, withStore } from '../lib';
import { assertOneLineError, lines, show, storedImages } from './image-helpers';

const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const bb = () => fixtures().images.busybox;

async function ok(r: Promise<RunResult>): Promise<RunResult> {
  const res = await r;
  assert.is(res.code, 0, show(res));
  return res;
}

/** A usage error as podman prints it: `Error: ...` and at most a hint where to look. */
function assertUsageError(r: RunResult, pattern: RegExp): void {
  assertOneLineError(r, pattern);
  const rest = lines(r.stderr).filter((l) => !l.startsWith('Error: '));
  assert.ok(rest.every((l) => /^(See|Try) 'tspod .*--help'/.test(l)), `only a hint besides the error:\n${show(r)}`);
  assert.is(r.stdout, '');
}

// ---------------------------------------------------------------------------------------------
const globals = suite('global options');

globals('--root selects the store: an image pulled into one is not in another', async () => {
  const a = await freshStore(TEST_USER);
  const b = await freshStore(TEST_USER);
  try {
    await ok(tspod(TEST_USER, ['pull', '-q', `${REGISTRY}/busybox`], { store: a }));
    assert.is((await ok(tspod(TEST_USER, ['images', '-q'], { store: a }))).stdout, `${bb().imageId.slice(0, 12)}\n`);
    assert.is((await ok(tspod(TEST_USER, ['images', '-q'], { store: b }))).stdout, '');
    assert.is(storedImages(a).length, 1);
    assert.equal(storedImages(b), []);
    assert.ok(fs.existsSync(path.join(b, 'store.json')), 'the other store was set up');
    // --root=DIR works as well as --root DIR; info names the store in use.
    const info = JSON.parse((await ok(tspod(TEST_USER, ['--root=' + a, 'info', '--format', 'json']))).stdout);
    assert.is(info.store.graphRoot, a);
    assert.is(info.store.imageStore.number, 1);
  } finally {
    removeStore(a);
    removeStore(b);
  }
});

globals('--log-level debug prints debug lines; the default prints none; a bad level is refused', async () => {
  await withStore(TEST_USER, async (run) => {
    const plain = await ok(run(['pull', '-q', `${REGISTRY}/busybox`]));
    assert.not.match(plain.stderr, /DEBU/);
    assert.is(plain.stderr, '', '-q: nothing on stderr');
    for (const flags of [['--log-level', 'debug'], ['--log-level=debug'], ['-D']]) {
      const dbg = await ok(run([...flags, 'pull', '-q', `${REGISTRY}/busybox`]));
      assert.match(dbg.stderr, /^DEBU\[\d{4}\] /m, flags.join(' '));
      assert.match(dbg.stderr, /localhost:5000/, 'the debug lines say what was asked of the registry');
      assert.is(dbg.stdout, `${bb().imageId}\n`);
    }
    const quiet = await ok(run(['--log-level', 'error', 'images', '-q']));
    assert.is(quiet.stderr, '');
    assertOneLineError(await run(['--log-level', 'chatty', 'images']), /invalid log level "chatty"/);
  });
});

globals('global flags go before the verb; an unknown one is one line and exit 125', async () => {
  assertUsageError(await tspod(TEST_USER, ['--bogus', 'images']), /^Error: unknown flag: --bogus$/);
  assertUsageError(await tspod(TEST_USER, ['images', '--bogus']), /^Error: unknown flag: --bogus$/);
  const r = await tspod(TEST_USER, ['pull', '--bogus=1', 'x']);
  assertUsageError(r, /^Error: unknown flag: --bogus$/);
  assert.match(r.stderr, /^See 'tspod pull --help'$/m, 'the hint names the verb, not its arguments');
  assertUsageError(await tspod(TEST_USER, ['--storage-driver', 'vfs', 'images']), /storage driver "vfs"/);
});

// ---------------------------------------------------------------------------------------------
const help = suite('help and version');

const VERBS: Array<[string[], RegExp]> = [
  [['pull'], /^Pull an image from a registry/],
  [['images'], /^List images in local storage/],
  [['rmi'], /^Removes one or more images from local storage/],
  [['tag'], /^Add an additional name to a local image/],
  [['untag'], /^Remove a name from a local image/],
  [['image', 'prune'], /^Remove unused images/],
  [['image', 'inspect'], /^Display the configuration of an image/],
  [['login'], /^Login to a container registry/],
  [['logout'], /^Logout of a container registry/],
  [['unshare'], /^Run a command in a modified user namespace/],
  [['info'], /^Display tspod system information/],
  [['version'], /^Display the tspod version information/],
];

help('tspod --help lists the verbs and the global options', async () => {
  const r = await ok(tspod(TEST_USER, ['--help']));
  assert.match(r.stdout, /^Manage pods, containers and images\n\nUsage:\n  tspod \[options\] \[command\]\n/);
  const listed = new Map(
    r.stdout
      .split('Available Commands:\n')[1]
      .split('\n\n')[0]
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[0])
      .map((v) => [v, true]),
  );
  for (const v of ['image', 'images', 'info', 'login', 'logout', 'pull', 'rmi', 'tag', 'unshare', 'untag', 'version']) assert.ok(listed.has(v), `${v} listed`);
  for (const o of ['--root string', '--log-level string', '--version']) assert.ok(r.stdout.includes(o), o);
  assert.is(r.stderr, '');
  assert.is((await ok(tspod(TEST_USER, ['help']))).stdout, r.stdout);
  const none = await tspod(TEST_USER, []);
  assert.is(none.stdout, r.stdout, 'no verb: the help, and an error');
  assertOneLineError(none, /missing command/);
});

help('VERB --help for every image verb: description, usage, options; exit 0', async () => {
  for (const [verb, description] of VERBS) {
    const r = await ok(tspod(TEST_USER, [...verb, '--help']));
    assert.match(r.stdout, description, verb.join(' '));
    assert.match(r.stdout, new RegExp(`\\nUsage:\\n  tspod ${verb.join(' ')} `), verb.join(' '));
    assert.is(r.stderr, '', verb.join(' '));
  }
  const pull = await ok(tspod(TEST_USER, ['pull', '--help']));
  for (const o of ['--tls-verify', '--platform string', '--arch string', '--creds string', '--cert-dir string', '-q, --quiet']) assert.ok(pull.stdout.includes(o), `pull --help shows ${o}`);
  assert.match(pull.stdout, /Aliases:\n  pull, image pull\n/);
  // The other ways to ask give the same text.
  for (const args of [['pull', '-h'], ['pull', 'x', '--help'], ['help', 'pull'], ['--help', 'pull'], ['image', 'pull', '--help']]) {
    assert.is((await ok(tspod(TEST_USER, args))).stdout, pull.stdout, args.join(' '));
  }
  const noun = await ok(tspod(TEST_USER, ['image', '--help']));
  assert.match(noun.stdout, /^Manage images\n/);
  for (const sub of ['inspect', 'ls', 'prune', 'pull', 'rm', 'tag']) assert.match(noun.stdout, new RegExp(`^  ${sub} +\\S`, 'm'), `image ${sub} listed`);
  const bare = await tspod(TEST_USER, ['image']);
  assert.is(bare.stdout, noun.stdout);
  assertOneLineError(bare, /missing command 'tspod image COMMAND'/);
});

help('--version and version', async () => {
  const v = await ok(tspod(TEST_USER, ['--version']));
  assert.is(v.stdout, `tspod version ${VERSION}\n`);
  assert.is((await ok(tspod(TEST_USER, ['-v']))).stdout, v.stdout);
  const table = await ok(tspod(TEST_USER, ['version']));
  assert.match(table.stdout, new RegExp(`^Version: +${VERSION.replace(/\./g, '\\.')}$`, 'm'));
  assert.match(table.stdout, /^OS\/Arch: +linux\/(amd64|arm64)$/m);
  const json = JSON.parse((await ok(tspod(TEST_USER, ['version', '--format', 'json']))).stdout);
  assert.is(json.Client.Version, VERSION);
  assert.is((await ok(tspod(TEST_USER, ['version', '--format', '{{.Client.Version}}']))).stdout, `${VERSION}\n`);
});

help('info: YAML by default, JSON and templates; the store and the id mappings', async () => {
  await withStore(TEST_USER, async (run, store) => {
    await ok(run(['pull', '-q', `${REGISTRY}/busybox`]));
    const me = userInfo(TEST_USER);
    const y = await ok(run(['info']));
    assert.match(y.stdout, /^host:\n/);
    assert.match(y.stdout, new RegExp(`^  graphRoot: ${store}$`, 'm'));
    assert.equal(lines(y.stdout).filter((l) => / $/.test(l)), [], 'no trailing blanks');
    const j = JSON.parse((await ok(run(['info', '--format', 'json']))).stdout);
    assert.is(j.store.graphRoot, store);
    assert.is(j.store.imageStore.number, 1);
    assert.equal(j.host.idMappings.uidmap[0], { container_id: 0, host_id: me.uid, size: 1 });
    assert.equal(j.host.idMappings.uidmap[1], { container_id: 1, host_id: me.subuid[0].start, size: me.subuid[0].count });
    assert.is(j.host.security.rootless, true);
    // Templates name podman's Go fields.
    assert.is((await ok(run(['info', '--format', '{{.Store.GraphRoot}} {{.Host.Security.Rootless}} {{.Store.ImageStore.Number}}']))).stdout, `${store} true 1\n`);
    assert.is((await ok(run(['info', '--format', '{{(index .Host.IDMappings.UIDMap 0).HostID}}']))).stdout, `${me.uid}\n`);
  });
});

// ---------------------------------------------------------------------------------------------
const usage = suite('usage errors and noun forms');

usage('an unknown verb: one line, exit 125, no stack trace', async () => {
  const r = await tspod(TEST_USER, ['nosuchverb']);
  assertUsageError(r, /^Error: unrecognized command `tspod nosuchverb`$/);
  assertUsageError(await tspod(TEST_USER, ['image', 'bogus']), /^Error: unrecognized command `tspod image bogus`$/);
});

usage('missing or extra arguments: one line, exit 125', async () => {
  assertUsageError(await tspod(TEST_USER, ['pull']), /^Error: /);
  assertUsageError(await tspod(TEST_USER, ['tag', 'busybox']), /^Error: /);
  assertUsageError(await tspod(TEST_USER, ['image', 'inspect']), /^Error: /);
  assertUsageError(await tspod(TEST_USER, ['rmi', '-a', 'busybox']), /--all/);
  assertUsageError(await tspod(TEST_USER, ['pull', '--platform', 'linux/arm64', '--arch', 'arm64', 'x']), /--platform/);
});

usage('image pull = pull, image ls = images, image rm = rmi', async () => {
  await withStore(TEST_USER, async (run) => {
    const p = await ok(run(['image', 'pull', `${REGISTRY}/busybox`]));
    assert.is(p.stdout, `${bb().imageId}\n`);
    assert.match(p.stderr, /^Trying to pull localhost:5000\/busybox:latest\.\.\.$/m);
    const a = await ok(run(['images']));
    const b = await ok(run(['image', 'ls']));
    assert.is(b.stdout, a.stdout);
    await ok(run(['tag', 'busybox', 'mybox:dev']));
    const rm = await ok(run(['image', 'rm', 'mybox:dev']));
    assert.is(rm.stdout, 'Untagged: localhost/mybox:dev\n');
    const rm2 = await ok(run(['image', 'remove', 'busybox']));
    assert.equal(lines(rm2.stdout), [`Untagged: ${REGISTRY}/busybox:latest`, `Deleted: ${bb().imageId}`]);
    assert.is((await ok(run(['images', '-q']))).stdout, '');
  });
});

globals.run();
help.run();
usage.run();
