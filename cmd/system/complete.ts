// `tspod __complete ARGS... WORD`: the candidates for WORD after `tspod ARGS...`, for the shell
// completion scripts (`tspod completion bash|zsh|fish`), in cobra's protocol as podman speaks it:
// one candidate a line, optionally a tab and a description, then `:N` with the directive, and
// `Completion ended with directive: ...` on stderr. The scripts stay thin: verbs, flags and their
// values come from the command definitions here, live names from the store.
//
// It runs at every TAB: it reads the store's records without locks, never a registry.

import * as os from 'node:os';
import { Command, Option, type CommandClass } from 'clipanion';
import { TspodCommand } from '../base';
import type { TspodContext } from '../context';
import { availableCommands } from '../help';

// ---------------------------------------------------------------------------------------------
// The command model, read from the clipanion definitions

export interface FlagSpec {
  /** `-e`, `--env` */
  names: string[];
  takesValue: boolean;
  description: string;
  hidden: boolean;
}

export interface PositionalSpec {
  kind: 'positional' | 'rest' | 'proxy';
  name: string;
}

export interface CommandSpec {
  paths: string[][];
  description: string;
  hidden: boolean;
  flags: FlagSpec[];
  positionals: PositionalSpec[];
}

type OptionSpec = { definition(builder: unknown, key: string): void };

/**
 * A command's flags and positionals, from the options its class declares: each option's
 * definition is replayed against a recorder standing in for clipanion's builder.
 */
export function describeCommand(cls: CommandClass<TspodContext>): CommandSpec {
  const flags: FlagSpec[] = [];
  const positionals: PositionalSpec[] = [];
  const recorder = {
    addOption(o: { names: string[]; arity?: number; description?: string; hidden?: boolean }) {
      flags.push({ names: o.names, takesValue: (o.arity ?? 0) > 0, description: oneLine(o.description), hidden: !!o.hidden });
    },
    addPositional(o: { name: string }) {
      positionals.push({ kind: 'positional', name: o.name });
    },
    addRest(o: { name: string }) {
      positionals.push({ kind: 'rest', name: o.name });
    },
    addProxy(o: { name: string }) {
      positionals.push({ kind: 'proxy', name: o.name });
    },
  };
  const instance = new (cls as unknown as new () => Record<string, unknown>)();
  for (const key of Object.keys(instance)) {
    const v = instance[key] as (OptionSpec & Record<symbol, unknown>) | undefined;
    if (v && typeof v === 'object' && v[Command.isOption]) v.definition(recorder, key);
  }
  const c = cls as unknown as { paths?: string[][]; usage?: { description?: string; category?: string } };
  return {
    paths: c.paths ?? [],
    description: oneLine(c.usage?.description),
    hidden: !c.usage || c.usage.category === 'hidden',
    flags,
    positionals,
  };
}

function oneLine(s: string | undefined): string {
  return (s ?? '').split('\n')[0].trim();
}

/** Options of a command that take a value, by every name (`-e`, `--env`). */
export function valueFlagNames(spec: CommandSpec): Set<string> {
  return new Set(spec.flags.filter((f) => f.takesValue).flatMap((f) => f.names));
}

// ---------------------------------------------------------------------------------------------
// What completes where

/** cobra's ShellCompDirective bits. */
export const Directive = { Default: 0, Error: 1, NoSpace: 2, NoFileComp: 4, FilterFileExt: 8, FilterDirs: 16, KeepOrder: 32 } as const;

const DIRECTIVE_NAMES: Array<[number, string]> = [
  [Directive.Error, 'ShellCompDirectiveError'],
  [Directive.NoSpace, 'ShellCompDirectiveNoSpace'],
  [Directive.NoFileComp, 'ShellCompDirectiveNoFileComp'],
  [Directive.FilterFileExt, 'ShellCompDirectiveFilterFileExt'],
  [Directive.FilterDirs, 'ShellCompDirectiveFilterDirs'],
  [Directive.KeepOrder, 'ShellCompDirectiveKeepOrder'],
];

/** `ShellCompDirectiveNoSpace, ShellCompDirectiveNoFileComp`, as cobra names a directive. */
export function directiveName(d: number): string {
  const names = DIRECTIVE_NAMES.filter(([bit]) => (d & bit) !== 0).map(([, n]) => n);
  return names.length ? names.join(', ') : 'ShellCompDirectiveDefault';
}

/** Live names and closed sets a positional argument or a flag value completes to. */
type Kind =
  | 'containers' // all containers
  | 'running'
  | 'startable' // created or stopped
  | 'images'
  | 'containers+images'
  | 'volumes'
  | 'commands' // `help COMMAND`
  | 'files'
  | 'dirs'
  | 'signals'
  | 'capabilities'
  | 'none'
  | readonly string[];

/** Positional arguments: the first, and the ones after it. Keyed by a command's first path. */
const ARGUMENTS: Record<string, { first: Kind; rest?: Kind }> = {
  run: { first: 'images' },
  create: { first: 'images' },
  start: { first: 'startable', rest: 'startable' },
  stop: { first: 'running', rest: 'running' },
  kill: { first: 'running', rest: 'running' },
  pause: { first: 'running', rest: 'running' },
  exec: { first: 'running' },
  attach: { first: 'running' },
  top: { first: 'running' },
  restart: { first: 'containers', rest: 'containers' },
  rm: { first: 'containers', rest: 'containers' },
  logs: { first: 'containers', rest: 'containers' },
  wait: { first: 'containers', rest: 'containers' },
  port: { first: 'containers' },
  commit: { first: 'containers' },
  diff: { first: 'containers' },
  export: { first: 'containers' },
  rename: { first: 'containers' },
  cp: { first: 'files', rest: 'files' },
  inspect: { first: 'containers+images', rest: 'containers+images' },
  'container inspect': { first: 'containers', rest: 'containers' },
  'generate systemd': { first: 'containers' },
  'generate kube': { first: 'containers', rest: 'containers' },
  rmi: { first: 'images', rest: 'images' },
  images: { first: 'images' },
  'image inspect': { first: 'images', rest: 'images' },
  tag: { first: 'images' },
  untag: { first: 'images' },
  push: { first: 'images' },
  save: { first: 'images', rest: 'images' },
  history: { first: 'images' },
  completion: { first: ['bash', 'zsh', 'fish'] },
  'volume rm': { first: 'volumes', rest: 'volumes' },
  'volume inspect': { first: 'volumes', rest: 'volumes' },
};

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'warning', 'error', 'fatal', 'panic'];

/** Flag values, by long name; `VERB --flag` keys take precedence for one command. */
const FLAG_VALUES: Record<string, Kind> = {
  '--network': ['none', 'host', 'pasta', 'slirp4netns'],
  '--log-level': LOG_LEVELS,
  '--format': ['json'],
  '--restart': ['always', 'no', 'on-failure', 'unless-stopped'],
  '--restart-policy': ['always', 'no', 'on-abnormal', 'on-abort', 'on-failure', 'on-success', 'on-watchdog'],
  '--pull': ['always', 'missing', 'never', 'newer'],
  '--userns': ['auto', 'host', 'keep-id'],
  '--type': ['all', 'container', 'image'],
  '--cgroup-manager': ['cgroupfs', 'systemd'],
  '--storage-driver': ['overlay'],
  '--events-backend': ['file', 'journald', 'none'],
  '--stop-signal': 'signals',
  '--signal': 'signals',
  '--cap-add': 'capabilities',
  '--cap-drop': 'capabilities',
  'ps --sort': ['command', 'created', 'id', 'image', 'names', 'runningfor', 'size', 'status'],
  'images --sort': ['created', 'id', 'repository', 'size', 'tag'],
  '--volume': 'files',
  '--env-file': 'files',
  '--authfile': 'files',
  '--filename': 'files',
  '--file': 'files',
  '--label-file': 'files',
  '--cidfile': 'files',
  '--pidfile': 'files',
  '--root': 'dirs',
  '--runroot': 'dirs',
  '--tmpdir': 'dirs',
  '--cert-dir': 'dirs',
};

/** The options tspod takes before the verb (cmd/main.ts parses them). */
export const GLOBAL_FLAGS: FlagSpec[] = [
  { names: ['--cgroup-manager'], takesValue: true, description: 'Cgroup manager to use ("cgroupfs"|"systemd")', hidden: false },
  { names: ['-D', '--debug'], takesValue: false, description: 'Same as --log-level debug', hidden: false },
  { names: ['--events-backend'], takesValue: true, description: 'Events backend to use ("file"|"journald"|"none")', hidden: false },
  { names: ['-h', '--help'], takesValue: false, description: 'Help for tspod', hidden: false },
  { names: ['--log-level'], takesValue: true, description: 'Log messages above specified level (trace, debug, info, warn, warning, error, fatal, panic)', hidden: false },
  { names: ['--root'], takesValue: true, description: 'Path to the root directory in which data, including images, is stored', hidden: false },
  { names: ['--runroot'], takesValue: true, description: "Path to the 'run directory' where all state information is stored", hidden: false },
  { names: ['--storage-driver'], takesValue: true, description: 'Select which storage driver is used to manage storage of images and containers', hidden: false },
  { names: ['--tmpdir'], takesValue: true, description: 'Path to the tmp directory', hidden: false },
  { names: ['-v', '--version'], takesValue: false, description: 'Version for tspod', hidden: false },
];

// ---------------------------------------------------------------------------------------------
// The completion itself: pure, over the specs and what the store holds

export interface LiveContainer {
  id: string;
  name: string;
  status: string;
  created: string;
}

export interface LiveImage {
  id: string;
  names: string[];
}

/** Where live names come from (called only when a position wants them), and the engine's tables. */
export interface LiveSource {
  containers(root: string | undefined): LiveContainer[];
  images(root: string | undefined): LiveImage[];
  /** Volume names. */
  volumes(root: string | undefined): string[];
  /** Capability names without CAP_. */
  capabilities(): readonly string[];
}

export interface Completion {
  /** `value` or `value\tdescription` */
  candidates: string[];
  directive: number;
}

interface Context {
  specs: CommandSpec[];
  live: LiveSource;
  root?: string;
  /** The verb's path as it was typed (`container stop`), for FLAG_VALUES' per-verb keys. */
  verb?: string;
}

const none = (directive: number = Directive.NoFileComp): Completion => ({ candidates: [], directive });

function withPrefix(values: Iterable<string>, word: string, describe?: (v: string) => string): string[] {
  const out: string[] = [];
  for (const v of values) if (v.startsWith(word)) out.push(describe ? `${v}\t${describe(v)}` : v);
  return out;
}

function containerCandidates(ctx: Context, word: string, want: (status: string) => boolean): string[] {
  const list = ctx.live.containers(ctx.root).filter((c) => want(c.status));
  list.sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
  const out = new Set<string>();
  for (const c of list) {
    // IDs once two characters are typed (as podman: a bare TAB would list every ID too).
    if (word.length > 1 && c.id.startsWith(word)) out.add(c.id.slice(0, 12));
    if (c.name.startsWith(word)) out.add(c.name);
  }
  return [...out];
}

function imageCandidates(ctx: Context, word: string): string[] {
  const out = new Set<string>();
  for (const img of ctx.live.images(ctx.root)) {
    if (word.length > 1 && img.id.startsWith(word)) out.add(img.id.slice(0, 12));
    for (const name of img.names) {
      if (word === '') {
        out.add(name);
        continue;
      }
      // `localhost:5000/lib/busybox:latest` also as `lib/busybox:latest` and `busybox:latest`.
      const parts = name.split('/');
      for (let i = 0; i < parts.length; i++) {
        const s = parts.slice(i).join('/');
        if (s.startsWith(word)) out.add(s);
      }
    }
  }
  return [...out];
}

function signalNames(): string[] {
  return Object.keys(os.constants.signals).filter((s) => s !== 'SIGPOLL' && s !== 'SIGIOT' && s !== 'SIGUNUSED');
}

function completeKind(ctx: Context, kind: Kind, word: string): Completion {
  if (Array.isArray(kind)) return { candidates: withPrefix(kind as readonly string[], word), directive: Directive.NoFileComp };
  switch (kind) {
    case 'containers':
      return { candidates: containerCandidates(ctx, word, () => true), directive: Directive.NoFileComp };
    case 'running':
      return { candidates: containerCandidates(ctx, word, (s) => s === 'running'), directive: Directive.NoFileComp };
    case 'startable':
      return { candidates: containerCandidates(ctx, word, (s) => s === 'created' || s === 'exited' || s === 'stopped'), directive: Directive.NoFileComp };
    case 'images':
      return { candidates: imageCandidates(ctx, word), directive: Directive.NoFileComp };
    case 'containers+images':
      return { candidates: [...containerCandidates(ctx, word, () => true), ...imageCandidates(ctx, word)], directive: Directive.NoFileComp };
    case 'volumes':
      return { candidates: withPrefix(ctx.live.volumes(ctx.root), word), directive: Directive.NoFileComp };
    case 'commands':
      return { candidates: topLevel(ctx, word), directive: Directive.NoFileComp };
    case 'signals':
      return { candidates: withPrefix(signalNames(), word), directive: Directive.NoFileComp };
    case 'capabilities':
      return { candidates: withPrefix(['ALL', ...ctx.live.capabilities().map((c) => `CAP_${c}`)], word), directive: Directive.NoFileComp };
    case 'files':
      return none(Directive.Default);
    case 'dirs':
      return none(Directive.FilterDirs);
    default:
      return none();
  }
}

function nounsAndVerbs(specs: CommandSpec[]): Map<string, string> {
  return availableCommands(specs.map((s) => ({ paths: s.paths, usage: s.hidden ? undefined : { description: s.description } })));
}

function topLevel(ctx: Context, word: string): string[] {
  const verbs = nounsAndVerbs(ctx.specs);
  return withPrefix(verbs.keys(), word, (v) => verbs.get(v) ?? '');
}

function subcommands(ctx: Context, noun: string, word: string): string[] {
  const subs = new Map<string, string>();
  for (const s of ctx.specs) {
    if (s.hidden) continue;
    for (const p of s.paths) if (p.length === 2 && p[0] === noun && !subs.has(p[1])) subs.set(p[1], s.description);
  }
  const names = [...subs.keys()].sort();
  return withPrefix(names, word, (n) => subs.get(n) ?? '');
}

function flagNames(flags: FlagSpec[], word: string): string[] {
  const out: string[] = [];
  for (const f of flags) {
    if (f.hidden) continue;
    // Every name: long ones first (`--network`, `--net`), then the short one, as cobra lists them.
    const ordered = [...f.names.filter((n) => n.startsWith('--')), ...f.names.filter((n) => !n.startsWith('--'))];
    for (const n of ordered) if (n.startsWith(word)) out.push(`${n}\t${f.description}`);
  }
  return out;
}

function flagValue(ctx: Context, flag: FlagSpec, word: string): Completion {
  const long = flag.names.find((n) => n.startsWith('--')) ?? flag.names[0];
  const kind = (ctx.verb !== undefined ? FLAG_VALUES[`${ctx.verb} ${long}`] : undefined) ?? FLAG_VALUES[long] ?? 'none';
  return completeKind(ctx, kind, word);
}

/** Finds a flag by a name as typed: `--env`, `-e`, and `--no-x` for a boolean `--x`. */
function findFlag(flags: FlagSpec[], name: string): FlagSpec | undefined {
  return flags.find((f) => f.names.includes(name)) ?? (name.startsWith('--no-') ? flags.find((f) => !f.takesValue && f.names.includes(`--${name.slice(5)}`)) : undefined);
}

/** A flag word being typed (`--net`, `--network=pa`, `-`). */
function completeFlagWord(ctx: Context, flags: FlagSpec[], word: string): Completion {
  const eq = word.indexOf('=');
  if (eq > 0 && word.startsWith('--')) {
    const f = findFlag(flags, word.slice(0, eq));
    return f?.takesValue ? flagValue(ctx, f, word.slice(eq + 1)) : none();
  }
  return { candidates: flagNames(flags, word), directive: Directive.NoFileComp };
}

/** The candidates for the last of `args` (the word under the cursor, '' after a space). */
export function complete(specs: CommandSpec[], args: string[], live: LiveSource): Completion {
  const words = args.slice(0, -1);
  const word = args.length ? args[args.length - 1] : '';
  const ctx: Context = { specs, live };

  // Global options before the verb.
  let i = 0;
  for (; i < words.length && words[i].startsWith('-'); i++) {
    const w = words[i];
    const eq = w.indexOf('=');
    const name = eq < 0 ? w : w.slice(0, eq);
    const f = findFlag(GLOBAL_FLAGS, name);
    if (!f?.takesValue) continue;
    let value: string;
    if (eq >= 0) value = w.slice(eq + 1);
    else if (i + 1 < words.length) value = words[++i];
    else return flagValue(ctx, f, word);
    if (name === '--root') ctx.root = value;
  }
  if (i >= words.length) return word.startsWith('-') ? completeFlagWord(ctx, GLOBAL_FLAGS, word) : { candidates: topLevel(ctx, word), directive: Directive.NoFileComp };

  // The verb: `stop`, or a noun and its verb (`container stop`).
  const first = words[i++];
  if (first === 'help') {
    if (i < words.length) return { candidates: subcommands(ctx, words[i], word), directive: Directive.NoFileComp };
    return { candidates: topLevel(ctx, word), directive: Directive.NoFileComp };
  }
  const at = (path: string[]) => specs.find((s) => s.paths.some((p) => p.length === path.length && p.every((x, k) => x === path[k])));
  const isNoun = specs.some((s) => s.paths.some((p) => p.length === 2 && p[0] === first));
  let spec = at([first]);
  let typed = first;
  if (isNoun && (!spec || (i < words.length && at([first, words[i]])))) {
    if (i >= words.length) {
      if (word.startsWith('-')) return completeFlagWord(ctx, [helpFlag([])], word);
      return { candidates: subcommands(ctx, first, word), directive: Directive.NoFileComp };
    }
    typed = `${first} ${words[i]}`;
    spec = at([first, words[i++]]);
  }
  if (!spec) return none();
  // Per-command tables are keyed by the path as typed (`container inspect`), else by the
  // command's first path (`stop` for `container stop`).
  const key = spec.paths[0].join(' ');
  ctx.verb = key;
  const flags = [...spec.flags, helpFlag(spec.flags)];

  // The command's own arguments, up to the word being completed. Words from the proxy on
  // (`run IMAGE ...`) belong to the command run in the container; after `--`, all are arguments.
  const proxyAt = spec.positionals.findIndex((p) => p.kind === 'proxy');
  const proxyFrom = proxyAt < 0 ? Infinity : proxyAt;
  let positional = 0;
  let dashes = false;
  for (; i < words.length && positional < proxyFrom; i++) {
    const w = words[i];
    if (dashes || !w.startsWith('-') || w === '-') {
      positional++;
      continue;
    }
    if (w === '--') {
      dashes = true;
      continue;
    }
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      const f = findFlag(flags, eq < 0 ? w : w.slice(0, eq));
      if (f?.takesValue && eq < 0) {
        if (i + 1 >= words.length) return flagValue(ctx, f, word);
        i++;
      }
      continue;
    }
    // Bundled short flags: a value-taking one ends the bundle, its value attached or next.
    for (let j = 1; j < w.length; j++) {
      const f = findFlag(flags, `-${w[j]}`);
      if (!f?.takesValue) continue;
      if (j === w.length - 1) {
        if (i + 1 >= words.length) return flagValue(ctx, f, word);
        i++;
      }
      break;
    }
  }
  // The container's own command line: the shell's files.
  if (positional >= proxyFrom) return none(Directive.Default);
  if (!dashes && word.startsWith('-')) return completeFlagWord(ctx, flags, word);
  const expected = ARGUMENTS[typed] ?? ARGUMENTS[key];
  if (!expected) return none();
  return completeKind(ctx, positional === 0 ? expected.first : expected.rest ?? 'none', word);
}

function helpFlag(flags: FlagSpec[]): FlagSpec {
  const shortTaken = flags.some((f) => f.names.includes('-h'));
  return { names: shortTaken ? ['--help'] : ['-h', '--help'], takesValue: false, description: 'Help for this command', hidden: false };
}

// ---------------------------------------------------------------------------------------------
// The hidden command

/**
 * Containers and images of a store, read without locks and without creating anything. The store
 * is the one named by --root among the words being completed, else by tspod's own --root (in
 * front of __complete), else the default.
 */
async function storeLive(env: NodeJS.ProcessEnv, ownRoot: string | undefined): Promise<LiveSource> {
  const { Store } = await import('../../core/store/store');
  const { defaultStoreRoot } = await import('../../core/paths');
  const { listContainers } = await import('../../core/container/record');
  const { ALL_CAPS } = await import('../../core/container/options');
  const { listVolumes } = await import('../../core/container/volumes');
  // new Store() only names the directory; Store.open() would create a missing store.
  const open = (root: string | undefined) => new Store(root ?? ownRoot ?? defaultStoreRoot(env));
  return {
    containers(root) {
      try {
        return listContainers(open(root)).map((c) => ({ id: c.config.id, name: c.config.name, status: c.state.status, created: c.config.created }));
      } catch {
        return [];
      }
    },
    images(root) {
      try {
        return open(root)
          .images()
          .map((i) => ({ id: i.id, names: i.names }));
      } catch {
        return [];
      }
    },
    volumes(root) {
      try {
        return listVolumes(open(root)).map((v) => v.name);
      } catch {
        return [];
      }
    },
    capabilities: () => ALL_CAPS,
  };
}

export class CompleteCommand extends TspodCommand {
  // No usage: hidden from help. The scripts call `__complete -- ARGS...` so that a `--help` or
  // `-h` among the words being completed is not taken for a request of tspod's own help.
  static paths = [['__complete'], ['__completeNoDesc']];

  args = Option.Proxy();

  async execute(): Promise<number> {
    const { commandClasses } = await import('../commands');
    const args = this.args[0] === '--' ? this.args.slice(1) : [...this.args];
    if (args.length === 0) args.push('');
    const result = complete(commandClasses().map(describeCommand), args, await storeLive(this.context.env, this.context.globals.root));
    const noDesc = this.path[0] === '__completeNoDesc';
    let out = '';
    for (const c of result.candidates) {
      const line = (noDesc ? c.split('\t')[0] : c).split('\n')[0].trim();
      if (line) out += `${line}\n`;
    }
    this.out(`${out}:${result.directive}\n`);
    this.err(`Completion ended with directive: ${directiveName(result.directive)}\n`);
    return 0;
  }
}
