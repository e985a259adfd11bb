// `generate systemd`: a systemd service unit for a container, in podman's shape, for the user's
// own service manager (`systemctl --user`). Pure: the caller supplies the container, the paths
// and the clock.
//
// Without --new the unit starts and stops the existing container; the monitor that tspod leaves
// behind is the service's main process (Type=forking), named by a file holding only its pid.
// With --new the unit creates the container at each start (`tspod run -d --replace` with the
// container's original options) and removes it after it stops; the pid file of a new container
// is not known in advance, so ExecStartPost writes the monitor's pid where PIDFile= looks (systemd
// reads it after ExecStartPost has run).

import { TspodError } from '../errors';

/** Restart= values systemd knows. */
export const RESTART_POLICIES = ['no', 'on-success', 'on-failure', 'on-abnormal', 'on-watchdog', 'on-abort', 'always'];

/** systemd kills what is left this long after the container's own stop timeout (as podman). */
export const MIN_TIMEOUT_STOP_SEC = 60;

export interface SystemdContainer {
  id: string;
  name: string;
  /** Seconds `stop` waits before SIGKILL. */
  stopTimeout: number;
  /** The container's --restart ('' when none was given). */
  restartPolicy: string;
  /** The container's environment (for `-e NAME` options, whose value came from tspod's own). */
  env: string[];
  /** The arguments of the `run`/`create` that made it, global options included. */
  createCommand: string[];
}

export interface SystemdOptions {
  /** Name the unit and address the container by name instead of ID. */
  useName?: boolean;
  /** Create the container at start and remove it at stop. */
  new?: boolean;
  containerPrefix?: string;
  separator?: string;
  restartPolicy?: string;
  restartSec?: number;
  startTimeout?: number;
  stopTimeout?: number;
  noHeader?: boolean;
  wants?: string[];
  after?: string[];
  requires?: string[];
  /** Extra Environment= entries, KEY=VALUE. */
  env?: string[];
}

export interface SystemdContext {
  /** How to run tspod: its absolute path (and the script, when it runs under node). */
  executable: string[];
  /** The store the container lives in, absolute. */
  storeRoot: string;
  /** True when storeRoot is the store tspod uses without --root. */
  storeIsDefault: boolean;
  /** The file holding only the monitor's pid of the existing container. */
  monitorPidFile: string;
  version: string;
  now: Date;
  /** Options of `run` that take a value (`-e`, `--name`...), to tell them from the image. */
  runValueFlags: ReadonlySet<string>;
}

export interface SystemdUnit {
  /** `container-web`: the unit is `container-web.service`. */
  serviceName: string;
  text: string;
}

// Global options of tspod that take a value: they may stand before the verb of createCommand.
const GLOBAL_VALUE_FLAGS = new Set(['--root', '--runroot', '--log-level', '--storage-driver', '--tmpdir', '--cgroup-manager', '--events-backend']);

/**
 * The inside of a double-quoted systemd word: `%` doubled (specifiers), C escapes for quotes,
 * backslashes and control characters, and `$` doubled where the setting expands variables.
 */
function quotedBody(s: string, variables: boolean): string {
  let out = '';
  for (const ch of (variables ? s.replace(/\$/g, '$$$$') : s).replace(/%/g, '%%')) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20 || code === 0x7f) out += '\\x' + code.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out;
}

/** A word that needs quotes: blanks, quotes, backslashes, control characters, empty, or `;`. */
function needsQuotes(s: string): boolean {
  return s === '' || s === ';' || /[\s"'\\\u0000-\u001f\u007f]/.test(s);
}

/**
 * One argument of an Exec line: `$` and `%` doubled (systemd expands variables and specifiers
 * there), quoted when needed; a lone `;` would separate commands.
 */
export function escapeSystemdArg(arg: string): string {
  return needsQuotes(arg) ? `"${quotedBody(arg, true)}"` : arg.replace(/\$/g, '$$$$').replace(/%/g, '%%');
}

/** One word of a setting that expands specifiers but not variables (Environment=, RequiresMountsFor=). */
function escapeSettingWord(s: string): string {
  return needsQuotes(s) ? `"${quotedBody(s, false)}"` : s.replace(/%/g, '%%');
}

/** A single path (PIDFile=): specifiers expanded, the rest taken as it is. */
function escapePath(p: string): string {
  return p.replace(/%/g, '%%');
}

/** podman's layout of a long command: each option on a continuation line of its own. */
function formatExec(args: string[]): string {
  let out = args[0];
  for (const a of args.slice(1)) out += a.startsWith('-') ? ` \\\n\t${a}` : ` ${a}`;
  return out;
}

/** A word for /bin/sh: bare when it is safe, single-quoted otherwise. */
function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `Sun Nov 22 08:31:00 UTC 2026`, Go's time.UnixDate in UTC. */
export function unixDate(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n: number) => String(n).padStart(2, '0');
  const time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${time} UTC ${d.getUTCFullYear()}`;
}

export function serviceName(c: SystemdContainer, o: SystemdOptions): string {
  const nameOrId = o.useName ? c.name : c.id;
  const prefix = o.containerPrefix ?? 'container';
  return prefix ? `${prefix}${o.separator ?? '-'}${nameOrId}` : nameOrId;
}

/** Restart= (and StartLimitBurst= for `on-failure:N`) from the option or the container's policy. */
function restartSettings(c: SystemdContainer, o: SystemdOptions): { restart: string; burst?: string } {
  if (o.restartPolicy !== undefined) {
    if (!RESTART_POLICIES.includes(o.restartPolicy)) {
      throw new TspodError(`${o.restartPolicy} is not a valid restart policy: use ${RESTART_POLICIES.join(', ')}`);
    }
    return { restart: o.restartPolicy };
  }
  const p = c.restartPolicy;
  if (!p) return { restart: 'on-failure' };
  const m = /^on-failure:(\d+)$/.exec(p);
  if (m) return { restart: 'on-failure', burst: m[1] };
  if (p === 'unless-stopped') return { restart: 'always' };
  if (RESTART_POLICIES.includes(p)) return { restart: p };
  return { restart: 'on-failure' };
}

/** Where the verb (`run`, `create`, `container run`...) of a create command starts and ends. */
function findVerb(cmd: string[]): { start: number; end: number } | undefined {
  let i = 0;
  while (i < cmd.length && cmd[i].startsWith('-')) {
    const name = cmd[i].split('=')[0];
    i += GLOBAL_VALUE_FLAGS.has(name) && !cmd[i].includes('=') ? 2 : 1;
  }
  if (cmd[i] === 'container') i++;
  if (cmd[i] !== 'run' && cmd[i] !== 'create') return undefined;
  return { start: cmd[i - 1] === 'container' ? i - 1 : i, end: i + 1 };
}

/** The global options of the create command, with --root pointing at the store as an absolute path. */
function globalOptions(before: string[], ctx: SystemdContext): string[] {
  const out: string[] = [];
  let hasRoot = false;
  for (let i = 0; i < before.length; i++) {
    const a = before[i];
    if (a === '--root' || a.startsWith('--root=')) {
      hasRoot = true;
      out.push('--root', ctx.storeRoot);
      if (a === '--root') i++;
      continue;
    }
    out.push(a);
  }
  if (!hasRoot && !ctx.storeIsDefault) out.unshift('--root', ctx.storeRoot);
  return out;
}

interface RunArgs {
  /** Options of run, without those the unit sets itself. */
  options: string[];
  /** IMAGE [COMMAND [ARG...]] */
  positional: string[];
  /** `-e NAME` options without a value. */
  bareEnv: string[];
}

/**
 * Splits the arguments after `run` into options and IMAGE+COMMAND, dropping -d/--detach, --rm,
 * --replace, --name and --restart: the unit supplies its own (systemd restarts, not tspod).
 */
function splitRunArgs(args: string[], valueFlags: ReadonlySet<string>): RunArgs {
  const options: string[] = [];
  const bareEnv: string[] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a : a.slice(0, eq);
      const takesValue = valueFlags.has(name) && eq < 0;
      const value = eq >= 0 ? a.slice(eq + 1) : takesValue ? args[i + 1] : undefined;
      if (takesValue) i++;
      if (['--detach', '--no-detach', '--rm', '--no-rm', '--replace', '--no-replace', '--name', '--restart'].includes(name)) continue;
      if (name === '--env' && value !== undefined && !value.includes('=')) bareEnv.push(value);
      options.push(a, ...(takesValue && value !== undefined ? [value] : []));
      continue;
    }
    // Short options, possibly bundled (`-dit`, `-dp 80:80`, `-eFOO=bar`): -d goes, the rest stays.
    let head = '';
    let tail: string[] = [];
    for (let j = 1; j < a.length; j++) {
      const ch = a[j];
      if (valueFlags.has(`-${ch}`)) {
        const attached = a.slice(j + 1);
        const value = attached !== '' ? attached : args[++i];
        if (ch === 'e' && value !== undefined && !value.includes('=')) bareEnv.push(value);
        tail = attached !== '' ? [`-${ch}${attached}`] : value !== undefined ? [`-${ch}`, value] : [`-${ch}`];
        break;
      }
      if (ch !== 'd') head += ch;
    }
    if (head) options.push(`-${head}`);
    options.push(...tail);
  }
  return { options, positional: args.slice(i), bareEnv };
}

function newContainerCommands(c: SystemdContainer, ctx: SystemdContext): { globals: string[]; start: string[]; extraEnv: string[] } {
  if (c.createCommand.length === 0) {
    throw new TspodError(`cannot use --new on container ${c.id.slice(0, 12)}: no create command found (it was not made by tspod run or create)`);
  }
  const verb = findVerb(c.createCommand);
  if (!verb) throw new TspodError(`container ${c.id.slice(0, 12)}: its create command is not a run or create: ${c.createCommand.join(' ')}`);
  const globals = globalOptions(c.createCommand.slice(0, verb.start), ctx);
  const run = splitRunArgs(c.createCommand.slice(verb.end), ctx.runValueFlags);
  if (run.positional.length === 0) throw new TspodError(`container ${c.id.slice(0, 12)}: its create command names no image`);
  const extraEnv: string[] = [];
  for (const name of run.bareEnv) {
    const e = c.env.find((x) => x.startsWith(`${name}=`));
    if (e) extraEnv.push(e);
  }
  const start = [...ctx.executable, ...globals, 'run', '-d', '--replace', '--name', c.name, ...run.options, ...run.positional];
  return { globals, start, extraEnv };
}

/** The unit for one container. */
export function containerUnit(c: SystemdContainer, o: SystemdOptions, ctx: SystemdContext): SystemdUnit {
  const name = serviceName(c, o);
  const stopTimeout = o.stopTimeout ?? c.stopTimeout;
  const { restart, burst } = restartSettings(c, o);
  const rootFlags = ctx.storeIsDefault ? [] : ['--root', ctx.storeRoot];
  const tspod = (...args: string[]) => formatExec([...ctx.executable, ...args].map(escapeSystemdArg));
  const env = [...(o.env ?? [])];

  const service: string[] = [];
  if (o.new) {
    // The container is addressed by name: it gets a new ID at every start.
    const made = newContainerCommands(c, ctx);
    env.push(...made.extraEnv);
    const globals = made.globals;
    // sh writes the pid; the redirection's target is systemd's (%t/%n.pid), hence outside quotedBody.
    const script = 'exec ' + [...ctx.executable, ...globals, 'inspect', '--format', '{{.State.ConmonPid}}', c.name].map(shellWord).join(' ');
    service.push(
      'ExecStartPre=/bin/rm \\\n\t-f %t/%n.pid',
      `ExecStart=${formatExec(made.start.map(escapeSystemdArg))}`,
      `ExecStartPost=/bin/sh -c "${quotedBody(script, true)} >'%t/%n.pid'"`,
      `ExecStop=${tspod(...globals, 'stop', '--ignore', '-t', String(stopTimeout), c.name)}`,
      `ExecStopPost=${tspod(...globals, 'rm', '-f', '--ignore', '-t', String(stopTimeout), c.name)}`,
      'PIDFile=%t/%n.pid',
    );
  } else {
    const ref = o.useName ? c.name : c.id;
    service.push(
      `ExecStart=${tspod(...rootFlags, 'start', ref)}`,
      `ExecStop=${tspod(...rootFlags, 'stop', '-t', String(stopTimeout), ref)}`,
      `ExecStopPost=${tspod(...rootFlags, 'stop', '-t', String(stopTimeout), ref)}`,
      `PIDFile=${escapePath(ctx.monitorPidFile)}`,
    );
  }

  let text = `# ${name}.service\n`;
  if (!o.noHeader) text += `# autogenerated by tspod ${ctx.version}\n# ${unixDate(ctx.now)}\n`;
  text += '\n[Unit]\n';
  text += `Description=tspod ${name}.service\n`;
  text += 'Wants=network-online.target\nAfter=network-online.target\n';
  text += `RequiresMountsFor=${escapeSettingWord(ctx.storeRoot)}\n`;
  if (o.wants?.length || o.after?.length || o.requires?.length) {
    text += '\n# User-defined dependencies\n';
    if (o.wants?.length) text += `Wants=${o.wants.join(' ')}\n`;
    if (o.after?.length) text += `After=${o.after.join(' ')}\n`;
    if (o.requires?.length) text += `Requires=${o.requires.join(' ')}\n`;
  }
  text += '\n[Service]\n';
  text += 'Environment=TSPOD_SYSTEMD_UNIT=%n\n';
  for (const e of env) text += `Environment=${escapeSettingWord(e)}\n`;
  text += `Restart=${restart}\n`;
  if (o.restartSec !== undefined) text += `RestartSec=${o.restartSec}\n`;
  if (burst !== undefined) text += `StartLimitBurst=${burst}\n`;
  if (o.startTimeout !== undefined && o.startTimeout !== 0) text += `TimeoutStartSec=${o.startTimeout}\n`;
  text += `TimeoutStopSec=${MIN_TIMEOUT_STOP_SEC + stopTimeout}\n`;
  text += service.join('\n') + '\n';
  text += 'Type=forking\n';
  text += '\n[Install]\nWantedBy=default.target\n';
  return { serviceName: name, text };
}
