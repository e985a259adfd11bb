// `tspod __complete` as the shells call it, against podman's own answers; the scripts that
// `tspod completion` prints and the copies in completions/; and the command listing of `tspod help`.

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { freshStore, REFERENCE_DIR, removeStore, REGISTRY, REPO_ROOT, runAs, TEST_USER, TSPOD_BIN, tspod, type RunResult } from '../lib';

const IMAGE = `${REGISTRY}/busybox`;
const REFERENCE = REFERENCE_DIR;
const show = (r: RunResult) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

async function ok(p: Promise<RunResult>): Promise<RunResult> {
  const r = await p;
  assert.is(r.code, 0, show(r));
  return r;
}

let store = '';

const proto = suite('__complete');

proto.before(async () => {
  store = await freshStore(TEST_USER);
  await ok(tspod(TEST_USER, ['pull', '-q', IMAGE], { store }));
  // Oldest first: done (ran and exited), then made (created only).
  await ok(tspod(TEST_USER, ['run', '--name', 'done', IMAGE, 'true'], { store }));
  await ok(tspod(TEST_USER, ['create', '--name', 'made', IMAGE, 'true'], { store }));
});

proto.after(() => removeStore(store));

proto("podman's answers, byte for byte: `__complete ru` and `__complete start ''`", async () => {
  const ru = await ok(tspod(TEST_USER, ['__complete', 'ru'], { store }));
  const refRu = fs.readFileSync(path.join(REFERENCE, 'complete-ru.txt'), 'utf8');
  assert.is(ru.stdout + ru.stderr, refRu);
  assert.is(ru.stdout, 'run\tRun a command in a new container\n:4\n');
  const start = await ok(tspod(TEST_USER, ['__complete', 'start', ''], { store }));
  assert.is(start.stdout + start.stderr, fs.readFileSync(path.join(REFERENCE, 'complete-start.txt'), 'utf8'));
});

proto('the protocol: `--` before the words, help flags among them, no descriptions on request', async () => {
  const dashes = await ok(tspod(TEST_USER, ['__complete', '--', 'start', ''], { store }));
  assert.is(dashes.stdout, 'made\ndone\n:4\n');
  // -h and --help being completed are words like any other, not a request for help.
  const help = await ok(tspod(TEST_USER, ['__complete', '--', 'ps', '--help', '--so'], { store }));
  assert.match(help.stdout, /^--sort\t/);
  const h = await ok(tspod(TEST_USER, ['__complete', '--', 'stop', '-h', ''], { store }));
  assert.is(h.stdout, ':4\n');
  const noDesc = await ok(tspod(TEST_USER, ['__completeNoDesc', '--', 'st'], { store }));
  assert.is(noDesc.stdout, 'start\nstop\n:4\n');
  assert.is(noDesc.stderr, 'Completion ended with directive: ShellCompDirectiveNoFileComp\n');
  const files = await ok(tspod(TEST_USER, ['__complete', '--', 'run', IMAGE, ''], { store }));
  assert.is(files.stdout + files.stderr, ':0\nCompletion ended with directive: ShellCompDirectiveDefault\n');
  const dirs = await ok(tspod(TEST_USER, ['__complete', '--', '--root', ''], { store }));
  assert.is(dirs.stdout + dirs.stderr, ':16\nCompletion ended with directive: ShellCompDirectiveFilterDirs\n');
  const images = await ok(tspod(TEST_USER, ['__complete', '--', 'rmi', ''], { store }));
  assert.is(images.stdout, 'localhost:5000/busybox:latest\n:4\n');
});

proto('it takes no lock, creates no store, and answers fast', async () => {
  // Hold the store's lock as another tspod would during a pull.
  const lock = path.join(store, 'storage.lock');
  const holder = spawn('flock', [lock, 'sleep', '30'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    const r = await ok(tspod(TEST_USER, ['__complete', '--', 'rm', ''], { store, timeout: 10_000 }));
    const took = Date.now() - t0;
    assert.is(r.stdout, 'made\ndone\n:4\n');
    assert.ok(took < 3000, `answered in ${took} ms while the store was locked`);
  } finally {
    holder.kill();
  }
  const parent = await freshStore(TEST_USER);
  try {
    const missing = path.join(parent, 'none');
    const r = await ok(tspod(TEST_USER, ['__complete', '--', 'rm', ''], { store: missing }));
    assert.is(r.stdout, ':4\n');
    assert.not.ok(fs.existsSync(missing), 'completion did not create a store');
  } finally {
    removeStore(parent);
  }
  // Ten completions in a row, each well under a second.
  const t0 = Date.now();
  for (let i = 0; i < 10; i++) await ok(tspod(TEST_USER, ['__complete', '--', 'start', ''], { store }));
  const each = (Date.now() - t0) / 10;
  assert.ok(each < 1000, `${each} ms per completion`);
});

const scripts = suite('completion scripts');

scripts('`tspod completion SHELL` prints the script; completions/ holds the same', async () => {
  const files: Record<string, string> = { bash: 'tspod.bash', zsh: '_tspod', fish: 'tspod.fish' };
  for (const [shell, file] of Object.entries(files)) {
    const r = await ok(runAs(TEST_USER, [TSPOD_BIN, 'completion', shell]));
    assert.is(r.stdout, fs.readFileSync(path.join(REPO_ROOT, 'completions', file), 'utf8'), `completions/${file} is stale: run sh completions/generate.sh`);
    assert.match(r.stdout, / __complete -- /);
    const noDesc = await ok(runAs(TEST_USER, [TSPOD_BIN, 'completion', '--no-desc', shell]));
    assert.match(noDesc.stdout, / __completeNoDesc -- /);
    assert.not.match(noDesc.stdout, / __complete -- /);
  }
  assert.is(spawnSync('bash', ['-n', path.join(REPO_ROOT, 'completions', 'tspod.bash')]).status, 0, 'bash syntax');
  assert.is(spawnSync('zsh', ['-n', path.join(REPO_ROOT, 'completions', '_tspod')]).status, 0, 'zsh syntax');
  assert.is(spawnSync('fish', ['-n', path.join(REPO_ROOT, 'completions', 'tspod.fish')]).status, 0, 'fish syntax');
});

scripts('-f writes the script to a file; an unknown shell is refused', async () => {
  const dir = await freshStore(TEST_USER);
  try {
    const file = path.join(dir, 'tspod.fish');
    const r = await ok(runAs(TEST_USER, [TSPOD_BIN, 'completion', '-f', file, 'fish']));
    assert.is(r.stdout, '');
    assert.is(fs.readFileSync(file, 'utf8'), fs.readFileSync(path.join(REPO_ROOT, 'completions', 'tspod.fish'), 'utf8'));
    const bad = await runAs(TEST_USER, [TSPOD_BIN, 'completion', 'tcsh']);
    assert.is(bad.code, 125);
    assert.is(bad.stderr, 'Error: unsupported shell "tcsh": use bash, zsh, fish\n');
  } finally {
    removeStore(dir);
  }
});

const help = suite('tspod help');

help('lists the commands under `Available Commands:`, as podman does', async () => {
  const r = await ok(runAs(TEST_USER, [TSPOD_BIN, 'help']));
  assert.is(r.stdout, (await ok(runAs(TEST_USER, [TSPOD_BIN, '--help']))).stdout);
  const m = /\nAvailable Commands:\n((?: {2}\S+ +\S.*\n)+)\nOptions:\n/.exec(r.stdout);
  assert.ok(m, r.stdout);
  const rows = m![1].trimEnd().split('\n').map((l) => /^ {2}(\S+) +(.+)$/.exec(l)!.slice(1));
  const names = rows.map(([n]) => n);
  for (const v of ['completion', 'container', 'create', 'generate', 'help', 'image', 'images', 'info', 'inspect', 'kill', 'login', 'logs', 'ps', 'pull', 'rm', 'rmi', 'run', 'start', 'stop', 'tag', 'version']) {
    assert.ok(names.includes(v), `${v} is listed`);
  }
  assert.equal([...names].sort(), names, 'sorted');
  assert.not.ok(names.some((n) => n.startsWith('__')), 'the hidden command is not listed');
  // podman's wording where the commands are the same.
  const podman = new Map(
    fs.readFileSync(path.join(REFERENCE, 'help.txt'), 'utf8').split('\n').map((l) => /^ {2}(\S+) +(.+)$/.exec(l)).filter((x) => x).map((x) => [x![1], x![2]] as [string, string]),
  );
  for (const [n, d] of rows) if (['help', 'run', 'ps', 'pull', 'stop', 'start', 'rm', 'logs'].includes(n)) assert.is(d, podman.get(n), n);
  // The columns line up as podman's do: every description starts at the same place.
  assert.is(new Set(m![1].trimEnd().split('\n').map((l) => l.search(/(?<=\S +)\S/))).size, 1);
  const generate = await ok(runAs(TEST_USER, [TSPOD_BIN, 'help', 'generate']));
  assert.match(generate.stdout, /Available Commands:\n {2}kube +Generate Kubernetes YAML based on containers\n {2}systemd +Generate systemd units\n/);
});

proto.run();
scripts.run();
help.run();
