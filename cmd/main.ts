// tspod's entry point: global options before the verb (as podman: `tspod --root DIR images`),
// then one clipanion command per verb. Errors print as one line `Error: ...` on stderr with
// podman's exit codes; a stack trace only with --log-level debug.

import { Cli, UsageError, type Command } from 'clipanion';
import type { TspodContext, GlobalOptions } from './context';
import { commandClasses } from './commands';
import { commandClassAt, renderCommandHelp, renderNounHelp, renderTopHelp } from './help';
import { describeCommand } from './system/complete';
import { VERSION } from '../core/version';

const EXIT_ENGINE = 125;

interface Parsed {
  globals: GlobalOptions;
  rest: string[];
  help?: boolean;
  version?: boolean;
}

const GLOBAL_WITH_VALUE = new Set(['--root', '--runroot', '--log-level', '--storage-driver', '--tmpdir', '--cgroup-manager', '--events-backend']);

export function parseGlobals(argv: string[], env: NodeJS.ProcessEnv): Parsed {
  const globals: GlobalOptions = { logLevel: env.TSPOD_LOG_LEVEL ?? 'warn', argv };
  let i = 0;
  let help = false;
  let version = false;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('-')) break;
    if (a === '--help' || a === '-h') {
      help = true;
      continue;
    }
    if (a === '--version' || a === '-v') {
      version = true;
      continue;
    }
    if (a === '--debug' || a === '-D') {
      globals.logLevel = 'debug';
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    if (!GLOBAL_WITH_VALUE.has(name)) throw new UsageError(`unknown flag: ${name}`);
    let value: string;
    if (eq >= 0) value = a.slice(eq + 1);
    else {
      if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: ${name}`);
      value = argv[++i];
    }
    switch (name) {
      case '--root':
        globals.root = value;
        break;
      case '--runroot':
        globals.runroot = value;
        break;
      case '--log-level':
        globals.logLevel = value;
        break;
      case '--storage-driver':
        if (value !== 'overlay') throw new UsageError(`storage driver "${value}" is not supported: tspod uses overlay`);
        break;
      default:
        // Accepted for podman compatibility; tspod has nothing to configure there.
        break;
    }
  }
  return { globals, rest: argv.slice(i), help, version };
}

// Verbs whose arguments end in a command line of the container's: flags after the image belong
// to that command and are left alone.
const PROXY_VERBS = new Set(['run', 'create', 'exec', 'unshare', 'container run', 'container create', 'container exec']);
// Flags of those verbs that take a separate value, so that the value is not taken for the image.
const VALUE_FLAGS = new Set(
  ('-e --env --env-file -v --volume -p --publish --name -w --workdir -u --user --entrypoint --network --net ' +
    '-h --hostname --tmpfs --cap-add --cap-drop --stop-signal --stop-timeout -l --label --mount --platform --arch ' +
    '--os --variant --authfile --cert-dir --creds --add-host --dns --dns-search --dns-option --group-add --restart ' +
    '--log-driver --log-opt --pull --userns --ulimit -m --memory --cpus --shm-size --detach-keys --pidfile ' +
    '--cidfile --expose --label-file --annotation --sysctl --security-opt --device --init-path --uts --ipc --pid ' +
    '--cgroupns --health-cmd --timeout --tz --umask --uidmap --gidmap --hostuser --preserve-fds --requires --volumes-from')
    .split(' '),
);

/** Short options of a command: the letter, and whether it takes a value. */
export type ShortOptions = Map<string, boolean>;

/**
 * podman (Go's pflag) takes `--flag=true` and `--flag=false` for boolean flags; clipanion's
 * booleans take `--flag` and `--no-flag`. pflag also takes a short option's value in the same
 * word (`-t0`, `-p8080:80`, `-t=0`) and a value option at the end of a cluster (`-dp 8080:80`);
 * clipanion wants the value as the next word. Rewrites the former into the latter. `shorts`
 * (asked for only when a word needs it) gives the verb's short options; a word with a letter
 * that is not one of them is left for clipanion to refuse.
 */
export function normalizeFlags(args: string[], shorts: () => ShortOptions = () => new Map()): string[] {
  const out: string[] = [];
  let verbWords = 0;
  while (verbWords < args.length && verbWords < 2 && !args[verbWords].startsWith('-')) verbWords++;
  const verb = args.slice(0, verbWords).join(' ');
  const proxy = PROXY_VERBS.has(verb) || PROXY_VERBS.has(args[0]);
  let positional = false;
  // The word before was a flag whose value is this word.
  let value = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (i < verbWords || positional || a === '--') {
      if (a === '--') positional = true;
      out.push(a);
      continue;
    }
    if (value) {
      value = false;
      out.push(a);
      continue;
    }
    const m = /^--([a-z][a-z0-9-]*)=(true|false)$/.exec(a);
    if (m) {
      out.push(m[2] === 'true' ? `--${m[1]}` : `--no-${m[1]}`);
      continue;
    }
    if (/^-[A-Za-z]./.test(a)) {
      const split = splitShortCluster(a, shorts());
      if (split) {
        out.push(...split.words);
        value = split.wantsValue;
        continue;
      }
    }
    out.push(a);
    if (proxy && VALUE_FLAGS.has(a)) value = true;
    else if (proxy && !a.startsWith('-')) positional = true;
  }
  return out;
}

/** `-fa` -> -f -a; `-t0`, `-t=0` -> -t 0; `-dp` -> -d -p (wantsValue: the next word is p's). */
function splitShortCluster(word: string, shorts: ShortOptions): { words: string[]; wantsValue: boolean } | undefined {
  const words: string[] = [];
  for (let j = 1; j < word.length; j++) {
    const takes = shorts.get(word[j]);
    if (takes === undefined) return undefined;
    words.push(`-${word[j]}`);
    if (!takes) continue;
    const rest = word.slice(word[j + 1] === '=' ? j + 2 : j + 1);
    if (rest === '' && j + 1 === word.length) return { words, wantsValue: true };
    words.push(rest);
    return { words, wantsValue: false };
  }
  return { words, wantsValue: false };
}

/** The short options of the command that the leading words of `args` name, from its class's options. */
export function shortOptionsOf(cli: Cli<TspodContext>, args: string[]): ShortOptions {
  const words: string[] = [];
  for (const a of args) {
    if (a.startsWith('-') || words.length === 2) break;
    words.push(a);
  }
  const map: ShortOptions = new Map();
  for (let n = words.length; n > 0; n--) {
    const cls = commandClassAt(cli, words.slice(0, n));
    if (!cls) continue;
    for (const f of describeCommand(cls).flags) {
      const short = f.names.find((x) => /^-[A-Za-z]$/.test(x));
      if (short) map.set(short[1], f.takesValue);
    }
    break;
  }
  return map;
}

/**
 * A Cli with the commands whose first word is `verb` (all of them without one). clipanion
 * compiles a state machine of every registered command on each run; with only the verb's own
 * commands that costs a fraction of a millisecond instead of tens.
 */
export function makeCli(verb?: string): Cli<TspodContext> {
  const cli = new Cli<TspodContext>({ binaryName: 'tspod', binaryLabel: 'tspod', binaryVersion: VERSION, enableColors: false });
  const all = commandClasses();
  const some = verb === undefined ? [] : all.filter((c) => (c.paths ?? []).some((p) => p[0] === verb));
  for (const c of some.length ? some : all) cli.register(c);
  return cli;
}

function printError(stderr: NodeJS.WritableStream, message: string): void {
  stderr.write(`Error: ${message}\n`);
}

/** Runs one tspod invocation; returns the exit code. */
export async function run(argv: string[], io: Pick<TspodContext, 'stdin' | 'stdout' | 'stderr' | 'env'>): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseGlobals(argv, io.env);
  } catch (err) {
    printError(io.stderr, (err as Error).message);
    io.stderr.write(`See 'tspod --help'\n`);
    return EXIT_ENGINE;
  }
  const { globals, rest } = parsed;
  const log = await import('../core/log');
  const level = log.parseLogLevel(globals.logLevel);
  if (!level) {
    printError(io.stderr, `invalid log level "${globals.logLevel}": use ${log.LOG_LEVELS.join(', ')}`);
    return EXIT_ENGINE;
  }
  log.setLogLevel(level);
  if (parsed.version && rest.length === 0) {
    io.stdout.write(`tspod version ${VERSION}\n`);
    return 0;
  }
  // Every command, for help and errors only; the verb's own commands run without it.
  let everything: Cli<TspodContext> | undefined;
  const full = () => (everything ??= makeCli());
  if (rest.length === 0 || (parsed.help && rest.length === 0)) {
    io.stdout.write(renderTopHelp(full()));
    if (!parsed.help) {
      printError(io.stderr, `missing command 'tspod COMMAND'`);
      return EXIT_ENGINE;
    }
    return 0;
  }
  if (rest[0] === 'help') {
    if (rest.length === 1) {
      io.stdout.write(renderTopHelp(full()));
      return 0;
    }
    return run([...rest.slice(1), '--help'], io);
  }
  if (parsed.help || wantsHelp(rest)) return showHelp(full(), io, rest);
  const context: TspodContext = { ...Cli.defaultContext, ...io, globals, colorDepth: 1 };
  let command: Command<TspodContext>;
  try {
    const cli = makeCli(rest[0]);
    let shorts: ShortOptions | undefined;
    command = cli.process(normalizeFlags(rest, () => (shorts ??= shortOptionsOf(cli, rest))), context) as Command<TspodContext>;
  } catch (err) {
    return usageFailure(full(), io, rest, err);
  }
  if (command.help || isClipanionHelp(command)) return showHelp(full(), io, rest);
  try {
    const code = await command.validateAndExecute();
    return typeof code === 'number' ? code : 0;
  } catch (err) {
    return engineFailure(io, err);
  }
}

/**
 * True when the arguments after the verb ask for its help: `--help` anywhere before `--` (or, for
 * verbs that run a command of the container's, before that command), `-h` where it is not a
 * flag of the verb's own (run's -h is --hostname).
 */
export function wantsHelp(args: string[]): boolean {
  let verbWords = 0;
  while (verbWords < args.length && verbWords < 2 && !args[verbWords].startsWith('-')) verbWords++;
  const verb = args.slice(0, verbWords).join(' ');
  const proxy = PROXY_VERBS.has(verb) || PROXY_VERBS.has(args[0]);
  for (let i = verbWords; i < args.length; i++) {
    const a = args[i];
    if (a === '--') return false;
    if (a === '--help' || (a === '-h' && !proxy)) return true;
    if (proxy && !a.startsWith('-') && !VALUE_FLAGS.has(args[i - 1])) return false;
  }
  return false;
}

/** clipanion answers some `VERB --help` forms with a help command of its own, which needs its Cli. */
function isClipanionHelp(command: Command<TspodContext>): boolean {
  const builtin = command as unknown as { contexts?: unknown; commands?: unknown };
  return builtin.contexts !== undefined && Array.isArray(builtin.commands);
}

/** The help of the command that the leading words of `rest` name (`pull`, `image ls`), or of a noun. */
function showHelp(cli: Cli<TspodContext>, io: Pick<TspodContext, 'stdout' | 'stderr'>, rest: string[]): number {
  const words: string[] = [];
  for (const a of rest) {
    if (a.startsWith('-') || words.length === 2) break;
    words.push(a);
  }
  for (let n = words.length; n > 0; n--) {
    const cls = commandClassAt(cli, words.slice(0, n));
    if (cls) {
      io.stdout.write(renderCommandHelp(cli, cls));
      return 0;
    }
  }
  const noun = words.length ? renderNounHelp(cli, words[0]) : renderTopHelp(cli);
  if (noun) {
    io.stdout.write(noun);
    return 0;
  }
  printError(io.stderr, `unrecognized command \`tspod ${words.join(' ')}\``);
  io.stderr.write(`Try 'tspod --help' for more information\n`);
  return EXIT_ENGINE;
}

function usageFailure(cli: Cli<TspodContext>, io: Pick<TspodContext, 'stdout' | 'stderr'>, rest: string[], err: unknown): number {
  const e = err as Error & { clipanion?: { type: string } };
  let message = e.message;
  // Clipanion's own wording, turned into podman's.
  const unknownOption = /(?:Unsupported|Invalid) option name \("?(-[^")=]+)/.exec(message);
  if (unknownOption) message = `unknown flag: ${unknownOption[1]}`;
  else if (/Command not found/.test(message)) {
    const words = rest.filter((a) => !a.startsWith('-')).slice(0, 2);
    // A noun alone (`tspod image`): its subcommands, as podman shows them.
    const nounHelp = words.length === 1 ? renderNounHelp(cli, words[0]) : undefined;
    if (nounHelp) {
      io.stdout.write(nounHelp);
      printError(io.stderr, `missing command 'tspod ${words[0]} COMMAND'`);
      return EXIT_ENGINE;
    }
    printError(io.stderr, `unrecognized command \`tspod ${words.join(' ')}\``);
    io.stderr.write(`Try 'tspod --help' for more information\n`);
    return EXIT_ENGINE;
  } else if (/Not enough positional arguments|Extraneous positional argument|Missing required/.test(message)) {
    message = message.split('\n')[0].replace(/\.$/, '');
  } else message = message.split('\n')[0];
  printError(io.stderr, message);
  // The verb's own words (`image ls`), not its arguments.
  const words = rest.filter((a) => !a.startsWith('-')).slice(0, 2);
  while (words.length > 1 && !commandClassAt(cli, words)) words.pop();
  io.stderr.write(`See 'tspod ${words.join(' ')} --help'\n`);
  return EXIT_ENGINE;
}

async function engineFailure(io: Pick<TspodContext, 'stderr'>, err: unknown): Promise<number> {
  const { TspodError, describe } = await import('../core/errors');
  const { log } = await import('../core/log');
  if (err instanceof UsageError) {
    printError(io.stderr, err.message);
    return EXIT_ENGINE;
  }
  printError(io.stderr, describe(err));
  if (!(err instanceof TspodError) && err instanceof Error && log.enabled('debug')) io.stderr.write(`${err.stack}\n`);
  return err instanceof TspodError ? err.exitCode : EXIT_ENGINE;
}
