// `exec`: a process in a running container, through `tspod-helper exec` (userns-helper/PROTOCOL.md,
// "exec"). The helper joins the namespaces of the container's process and starts the command
// there as the container's own process was started: its user and groups, working directory,
// capabilities, no_new_privs, environment. tspod hands it the configuration on fd 3, reads its
// status lines on fd 4, and passes its exit code on.

import * as cp from 'node:child_process';
import * as crypto from 'node:crypto';
import { TspodError } from '../errors';
import { helperPath } from '../helper';
import { mergeEnv, readEnvFiles } from './command';
import type { Container } from './record';
import { FORWARD, parseStatus } from './start';

export interface ExecOptions {
  cmd: string[];
  /** -e KEY=VALUE (or KEY: the host's value) */
  env: string[];
  /** --env-file paths, relative to cwd */
  envFiles: string[];
  user?: string;
  workdir?: string;
  tty: boolean;
  interactive: boolean;
  detach: boolean;
  /** Every capability (of the container's user namespace) instead of the container's set. */
  privileged: boolean;
  hostEnv: NodeJS.ProcessEnv;
  cwd: string;
}

export interface ExecResult {
  exitCode: number;
  /** Detached: the session's ID, which podman prints. */
  sessionId?: string;
}


export function requireRunning(c: Container): { pid: number; monitorPid?: number } {
  const running = c.state.status === 'running' || c.state.status === 'stopping';
  if (!running || !c.state.pid) {
    throw new TspodError('can only create exec sessions on running containers: container state improper');
  }
  return { pid: c.state.pid, monitorPid: c.state.monitorPid };
}

/** The environment of the exec'd process: the container's, then --env-file, then -e; TERM for -t. */
export function execEnv(c: Container, o: ExecOptions, envFileEntries: string[]): string[] {
  const env = mergeEnv(c.config.env, envFileEntries, o.env, o.hostEnv);
  if (o.tty && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
  return env;
}

/** The user the command runs as: -u, else the container's (--userns=keep-id: the caller's ids). */
function execUser(c: Container, o: ExecOptions): string {
  if (o.user !== undefined && o.user !== '') return o.user;
  if (c.config.userns.startsWith('keep-id') && !c.config.user) return `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`;
  return c.config.user;
}

/** The helper's configuration: key\0value\0 pairs, lists as repeated keys. */
export function encodeExecConfig(c: Container, target: { pid: number; monitorPid?: number }, o: ExecOptions, env: string[]): Buffer {
  const parts: string[] = [];
  const put = (k: string, v: string | number | boolean | undefined): void => {
    if (v === undefined || v === false) return;
    const s = v === true ? '1' : String(v);
    if (s.includes('\0')) throw new TspodError(`a NUL byte is not allowed in ${k === 'arg' ? 'the command' : k}`);
    parts.push(k, s);
  };
  put('pid', target.pid);
  put('ppid', target.monitorPid);
  put('user', execUser(c, o));
  put('cwd', o.workdir || c.config.workdir || '/');
  for (const e of env) put('env', e);
  for (const a of o.cmd) put('arg', a);
  for (const cap of o.privileged ? ['ALL'] : c.config.caps) put('cap', cap);
  put('nonewprivs', !o.privileged);
  put('tty', o.tty);
  put('stdin', o.interactive && !o.detach);
  put('detach', o.detach);
  return Buffer.from(parts.map((p) => p + '\0').join(''), 'utf8');
}


/**
 * Runs the command in the running container `c`. In the foreground the process gets tspod's own
 * stdio (relayed through a pty with -t), signals to tspod are passed on, and the result is its
 * exit code (126 cannot execute, 127 not found, as docker); detached it returns once the process
 * runs.
 */
export async function execInContainer(c: Container, o: ExecOptions): Promise<ExecResult> {
  if (o.cmd.length === 0 || o.cmd[0] === '') {
    throw new TspodError('must provide a non-empty command to start an exec session: invalid argument');
  }
  const target = requireRunning(c);
  const config = encodeExecConfig(c, target, o, execEnv(c, o, readEnvFiles(o.envFiles, o.cwd, o.hostEnv)));
  const stdio: cp.StdioOptions = o.detach ? ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] : ['inherit', 'inherit', 'inherit', 'pipe', 'pipe'];
  const child = cp.spawn(helperPath(), ['exec'], { stdio });
  const configPipe = child.stdio[3] as NodeJS.WritableStream;
  configPipe.on('error', () => undefined);
  configPipe.end(config);

  // Signals for tspod go to the helper, which passes them to the process. A terminal's Ctrl-C
  // reaches the helper directly (same process group): tspod must not die of it.
  const forward = (sig: NodeJS.Signals): void => {
    try {
      child.kill(sig);
    } catch {
      // already gone
    }
  };
  if (!o.detach) for (const s of FORWARD) process.on(s, forward);
  let statusText = '';
  let stderr = '';
  (child.stdio[4] as NodeJS.ReadableStream).setEncoding('utf8').on('data', (d: string) => (statusText += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const [code] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', (e) => reject(new TspodError(`starting the helper: ${e.message}`)));
    child.on('close', (code, signal) => resolve([code, signal]));
  }).finally(() => {
    for (const s of FORWARD) process.off(s, forward);
  });

  const statuses = parseStatus(statusText);
  const failure = statuses.find((s) => s.error);
  if (failure) throw new TspodError(failure.error!, { exitCode: failure.exitCode ?? 125 });
  if (!statuses.some((s) => s.pid)) {
    const why = stderr.trim().split('\n').pop()?.replace(/^tspod-helper: /, '');
    throw new TspodError(why || `the exec helper ended without starting the process (exit ${code})`);
  }
  if (o.detach) return { exitCode: 0, sessionId: crypto.randomBytes(32).toString('hex') };
  const end = statuses.find((s) => s.exit !== undefined || s.signal !== undefined);
  return { exitCode: end ? end.exit ?? 128 + (end.signal ?? 0) : code ?? 125 };
}
