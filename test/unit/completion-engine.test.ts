// What `tspod __complete` offers where, from the real command definitions and a store stand-in.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { commandClasses } from '../../cmd/commands';
import { complete, describeCommand, directiveName, Directive, valueFlagNames, type LiveSource, type CommandSpec } from '../../cmd/system/complete';
import { RunCommand } from '../../cmd/container/run';
import { ALL_CAPS } from '../../core/container/options';

const specs: CommandSpec[] = commandClasses().map(describeCommand);

const ROOTS: Record<string, { containers: Array<{ id: string; name: string; status: string; created: string }>; images: Array<{ id: string; names: string[] }> }> = {
  default: {
    containers: [
      { id: 'ab12'.padEnd(64, '0'), name: 'web', status: 'running', created: '2026-01-03' },
      { id: 'ab34'.padEnd(64, '1'), name: 'made', status: 'created', created: '2026-01-02' },
      { id: 'cd56'.padEnd(64, '2'), name: 'done', status: 'exited', created: '2026-01-04' },
      { id: 'ef78'.padEnd(64, '3'), name: 'abba', status: 'running', created: '2026-01-01' },
    ],
    images: [
      { id: 'e02f'.padEnd(64, '4'), names: ['localhost:5000/busybox:latest', 'docker.io/library/busybox:1.36'] },
      { id: 'ff00'.padEnd(64, '5'), names: [] },
    ],
  },
  '/other': { containers: [{ id: '99'.padEnd(64, '9'), name: 'elsewhere', status: 'running', created: '2026-01-01' }], images: [] },
};

const asked: Array<string | undefined> = [];
const live: LiveSource = {
  containers: (root) => (asked.push(root), ROOTS[root ?? 'default']?.containers ?? []),
  images: (root) => (asked.push(root), ROOTS[root ?? 'default']?.images ?? []),
  volumes: (root) => (asked.push(root), root === undefined ? ['data', 'db-files', 'anon-1f2e'] : []),
  capabilities: () => ALL_CAPS,
};

function names(args: string[]): string[] {
  return complete(specs, args, live).candidates.map((c) => c.split('\t')[0]);
}

function directive(args: string[]): number {
  return complete(specs, args, live).directive;
}

test("top level: verbs and nouns with descriptions, as podman's `__complete ru`", () => {
  assert.equal(complete(specs, ['ru'], live), { candidates: ['run\tRun a command in a new container'], directive: 4 });
  assert.equal(names(['st']), ['start', 'stop']);
  const all = names(['']);
  for (const v of ['help', 'completion', 'generate', 'container', 'image', 'system', 'run', 'ps', 'rmi', 'version']) assert.ok(all.includes(v), v);
  assert.not.ok(all.some((v) => v.startsWith('__')), 'the hidden command is not offered');
  assert.equal([...all].sort(), all, 'sorted');
  for (const c of complete(specs, [''], live).candidates) assert.match(c, /^[a-z-]+\t[^\t\n]+$/, c);
  assert.is(directive(['']), Directive.NoFileComp);
  assert.equal(names(['zz']), []);
});

test('global options: names, closed values, directories, and --root selects the store', () => {
  const g = names(['--']);
  for (const f of ['--root', '--runroot', '--log-level', '--debug', '--help', '--version', '--storage-driver']) assert.ok(g.includes(f), f);
  assert.ok(names(['-']).includes('-D'));
  assert.equal(names(['--log-level', '']), ['trace', 'debug', 'info', 'warn', 'warning', 'error', 'fatal', 'panic']);
  assert.equal(names(['--log-level=de']), ['debug']);
  assert.equal(names(['--storage-driver', '']), ['overlay']);
  assert.equal(complete(specs, ['--root', ''], live), { candidates: [], directive: Directive.FilterDirs });
  assert.equal(names(['--root', '/other', 'stop', '']), ['elsewhere']);
  assert.equal(names(['--root=/other', '--log-level', 'debug', 'stop', '']), ['elsewhere']);
  assert.equal(names(['-D', 'st']), ['start', 'stop']);
});

test('containers by state: start offers stopped ones, stop the running, rm all; IDs after two characters', () => {
  asked.length = 0;
  assert.equal(names(['start', '']), ['done', 'made']);
  assert.equal(asked, [undefined], 'the default store, read once');
  assert.equal(names(['stop', '']), ['web', 'abba']);
  assert.equal(names(['kill', '']), ['web', 'abba']);
  assert.equal(names(['rm', '']), ['done', 'web', 'made', 'abba'], 'newest first');
  assert.equal(names(['logs', '']), names(['rm', '']));
  assert.equal(names(['wait', '']), names(['rm', '']));
  assert.equal(names(['restart', '']), names(['rm', '']));
  assert.equal(names(['start', 'a']), [], 'one character: names only');
  assert.equal(names(['stop', 'a']), ['abba']);
  assert.equal(names(['rm', 'ab']), ['ab12'.padEnd(12, '0'), 'ab34'.padEnd(12, '1'), 'abba']);
  assert.equal(names(['start', 'ab']), ['ab34'.padEnd(12, '1')]);
  assert.equal(names(['rm', 'web', '']), names(['rm', '']), 'every argument of rm is a container');
  assert.equal(names(['rm', '--', '']), names(['rm', '']), 'after --, arguments');
  assert.equal(names(['rm', '--', '-']), [], 'after --, no flags');
  assert.equal(names(['stop', '-t', '5', '']), ['web', 'abba'], 'a flag value is skipped');
  assert.equal(names(['container', 'stop', '']), ['web', 'abba'], 'the noun form');
  assert.equal(names(['container', 'inspect', '']), names(['rm', '']));
  assert.is(directive(['stop', '']), Directive.NoFileComp);
});

test('images: full names on a bare TAB, shorter forms once something is typed, IDs after two characters', () => {
  assert.equal(names(['run', '']), ['localhost:5000/busybox:latest', 'docker.io/library/busybox:1.36']);
  assert.equal(names(['run', 'bu']), ['busybox:latest', 'busybox:1.36']);
  assert.equal(names(['run', 'lib']), ['library/busybox:1.36']);
  assert.equal(names(['run', 'localhost:5000/b']), ['localhost:5000/busybox:latest']);
  assert.equal(names(['run', 'e0']), ['e02f'.padEnd(12, '4')]);
  for (const verb of [['create'], ['rmi'], ['image', 'rm'], ['image', 'inspect'], ['tag'], ['images'], ['image', 'ls'], ['untag']]) {
    assert.equal(names([...verb, 'bu']), ['busybox:latest', 'busybox:1.36'], verb.join(' '));
  }
  assert.equal(names(['rmi', 'x', 'bu']), ['busybox:latest', 'busybox:1.36']);
  assert.equal(names(['tag', 'busybox', '']), [], "tag's second argument is a new name");
  assert.equal(names(['inspect', 'd']), ['done', 'docker.io/library/busybox:1.36'], 'inspect: containers and images');
});

test('volumes: volume rm and volume inspect offer the names of the store; --root selects it', () => {
  assert.equal(names(['volume', 'rm', 'd']), ['data', 'db-files']);
  assert.equal(names(['volume', 'rm', 'data', '']), ['data', 'db-files', 'anon-1f2e']);
  assert.equal(names(['volume', 'inspect', 'an']), ['anon-1f2e']);
  assert.equal(names(['--root', '/other', 'volume', 'rm', '']), []);
  assert.equal(names(['volume', '']).sort(), ['create', 'inspect', 'list', 'ls', 'prune', 'remove', 'rm']);
  assert.equal(names(['volume', 'ls', '']), [], 'volume ls takes no names');
});

test("run: options and their values before the image, the container's command after it", () => {
  assert.equal(names(['run', '-e', 'X=1', '--name', 'n', '']), names(['run', '']));
  assert.equal(names(['run', '-it', '--rm', '']), names(['run', '']));
  assert.equal(names(['run', '--tls-verify=false', '--no-tls-verify', '']), names(['run', '']));
  assert.equal(complete(specs, ['run', 'busybox', ''], live), { candidates: [], directive: Directive.Default });
  assert.equal(complete(specs, ['unshare', ''], live), { candidates: [], directive: Directive.Default }, 'unshare CMD: files');
  assert.equal(complete(specs, ['run', 'busybox', 'sh', '-c', '--net'], live).directive, Directive.Default, 'flags after the image are the command\'s');
  assert.equal(names(['run', '--network', '']), ['none', 'host', 'pasta', 'slirp4netns']);
  assert.equal(names(['run', '--net', 'p']), ['pasta']);
  assert.equal(names(['run', '--network=sl']), ['slirp4netns']);
  assert.equal(names(['run', '--pull', '']), ['always', 'missing', 'never', 'newer']);
  assert.equal(names(['run', '--restart', '']), ['always', 'no', 'on-failure', 'unless-stopped']);
  assert.equal(names(['run', '--userns', '']), ['auto', 'host', 'keep-id']);
  assert.equal(names(['run', '--cap-add', 'CAP_NET_A']), ['CAP_NET_ADMIN']);
  assert.ok(names(['run', '--cap-drop', '']).includes('ALL'));
  assert.equal(names(['run', '--stop-signal', 'SIGK']), ['SIGKILL']);
  assert.equal(complete(specs, ['run', '-v', ''], live), { candidates: [], directive: Directive.Default }, '-v: host paths');
  assert.equal(complete(specs, ['run', '-p', ''], live), { candidates: [], directive: Directive.NoFileComp });
  assert.equal(complete(specs, ['run', '-ip', ''], live), { candidates: [], directive: Directive.NoFileComp }, 'a bundle ending in a value option');
  assert.equal(complete(specs, ['run', '--name', ''], live).candidates, []);
});

test('flags: every flag of every command and noun form, long and short, with descriptions', () => {
  for (const spec of specs) {
    // A command whose arguments are all another command's (unshare CMD...) has none of its own.
    if (spec.hidden || spec.positionals[0]?.kind === 'proxy') continue;
    for (const p of spec.paths) {
      const offered = complete(specs, [...p, '-'], live).candidates;
      for (const f of spec.flags) {
        if (f.hidden) continue;
        for (const n of f.names) assert.ok(offered.some((c) => c.split('\t')[0] === n), `${p.join(' ')}: ${n}`);
      }
      assert.ok(offered.some((c) => c.startsWith('--help\t')), `${p.join(' ')}: --help`);
      for (const c of offered) assert.not.match(c, /\n/);
    }
  }
  assert.equal(names(['stop', '--t']), ['--time']);
  assert.equal(names(['ps', '--sort', '']), ['command', 'created', 'id', 'image', 'names', 'runningfor', 'size', 'status']);
  assert.equal(names(['images', '--sort', '']), ['created', 'id', 'repository', 'size', 'tag']);
  assert.equal(names(['image', 'ls', '--sort', 'r']), ['repository'], 'per-verb values follow the noun form too');
  assert.equal(names(['ps', '--format', '']), ['json']);
  assert.equal(names(['inspect', '--type', '']), ['all', 'container', 'image']);
  assert.equal(names(['kill', '-s', 'SIGTE']).concat(names(['kill', '--signal', 'SIGTE'])).filter((x) => x === 'SIGTERM').length >= 1, true);
});

test('nouns, help, completion, generate', () => {
  const c = names(['container', '']);
  for (const v of ['create', 'inspect', 'logs', 'ls', 'prune', 'rm', 'run', 'start', 'stop']) assert.ok(c.includes(v), v);
  assert.equal(names(['image', 'r']), ['remove', 'rm']);
  assert.equal(names(['generate', '']), ['kube', 'systemd']);
  assert.equal(names(['generate', 'systemd', '']), names(['rm', '']));
  assert.equal(names(['generate', 'kube', 'web', '']), names(['rm', '']));
  assert.equal(names(['generate', 'systemd', '--restart-policy', '']), ['always', 'no', 'on-abnormal', 'on-abort', 'on-failure', 'on-success', 'on-watchdog']);
  assert.equal(complete(specs, ['generate', 'kube', '-f', ''], live).directive, Directive.Default, '-f FILE: files');
  assert.equal(names(['completion', '']), ['bash', 'zsh', 'fish']);
  assert.equal(names(['help', 'st']), ['start', 'stop']);
  assert.equal(names(['help', 'image', 'p']), ['prune', 'pull']);
  assert.equal(complete(specs, ['nosuch', ''], live), { candidates: [], directive: Directive.NoFileComp });
  assert.equal(complete(specs, ['container', 'nosuch', ''], live), { candidates: [], directive: Directive.NoFileComp });
});

test("cobra's directive names", () => {
  assert.is(directiveName(0), 'ShellCompDirectiveDefault');
  assert.is(directiveName(4), 'ShellCompDirectiveNoFileComp');
  assert.is(directiveName(6), 'ShellCompDirectiveNoSpace, ShellCompDirectiveNoFileComp');
  assert.is(directiveName(1), 'ShellCompDirectiveError');
  assert.is(directiveName(16), 'ShellCompDirectiveFilterDirs');
});

test("the command model reads clipanion's definitions", () => {
  const run = describeCommand(RunCommand);
  assert.equal(run.paths, [['run'], ['container', 'run']]);
  assert.equal(run.positionals.map((p) => p.kind), ['positional', 'proxy']);
  const v = valueFlagNames(run);
  for (const f of ['-e', '--env', '--name', '-p', '--publish', '-v', '--network', '--net', '--restart']) assert.ok(v.has(f), f);
  for (const f of ['-d', '--detach', '--rm', '-t', '-i', '--replace']) assert.not.ok(v.has(f), f);
  assert.is(run.description, 'Run a command in a new container');
  assert.is(run.hidden, false);
  assert.ok(specs.find((s) => s.paths[0][0] === '__complete')!.hidden);
});

test.run();
