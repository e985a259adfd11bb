// Runs a command as an unprivileged test user, the way a person would from a fresh login: the
// user's uid, gid and groups (setpriv), a clean environment, and no terminal.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { CLEAN_PATH } from './bed';
import { userInfo, UserInfo } from './users';

export interface RunOptions {
  /** Added to (or, with an undefined value, removed from) the clean environment. */
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed; stdin is an empty pipe without it. */
  input?: string | Buffer;
  /** Milliseconds before the process group is killed; default 120000. */
  timeout?: number;
  /** Working directory; default the user's home. */
  cwd?: string;
}

export interface RunResult {
  /** Exit code, or null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export const DEFAULT_TIMEOUT = 120_000;
const STDIO_GRACE = 3_000;

/**
 * The user's private runtime directory, /tmp/tspod-test-run-UID (0700, owned by the user), made or
 * repaired here: /tmp is shared, so anything already at that name must be the user's own directory.
 */
export function runtimeDirFor(user: UserInfo): string {
  const dir = `/tmp/tspod-test-run-${user.uid}`;
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (st && !st.isDirectory()) fs.rmSync(dir, { force: true });
  if (!st || !st.isDirectory()) fs.mkdirSync(dir, { mode: 0o700 });
  fs.chownSync(dir, user.uid, user.gid);
  fs.chmodSync(dir, 0o700);
  return dir;
}

/** The environment of a fresh login of `user`, and nothing of the test runner's. */
export function userEnv(user: UserInfo): Record<string, string> {
  return {
    HOME: user.home,
    USER: user.name,
    LOGNAME: user.name,
    PATH: CLEAN_PATH,
    XDG_RUNTIME_DIR: runtimeDirFor(user),
    LANG: 'C.UTF-8',
    NO_COLOR: '1',
  };
}

function mergeEnv(base: Record<string, string>, extra: RunOptions['env']): Record<string, string> {
  const env = { ...base };
  for (const [k, v] of Object.entries(extra ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export function runAs(userName: string, argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const user = userInfo(userName);
  if (user.uid === 0) throw new Error(`refusing to run as ${userName}: it is root`);
  const env = mergeEnv(userEnv(user), opts.env);
  const args = ['--reuid', String(user.uid), '--regid', String(user.gid), '--init-groups', '--', ...argv];
  return new Promise((resolve, reject) => {
    // detached: its own process group, so a timeout kills the command and its children together.
    const child = spawn('/usr/bin/setpriv', args, { env, cwd: opts.cwd ?? user.home, detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, opts.timeout ?? DEFAULT_TIMEOUT);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {
      // the command exited without reading its input: not our failure to report
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    // A daemonized grandchild (a detached container's monitor, say) that kept our stdout or
    // stderr open would hold 'close' back forever; give the pipes a grace period after exit.
    let grace: NodeJS.Timeout | undefined;
    child.on('exit', () => {
      grace = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, STDIO_GRACE);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(grace);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
    child.stdin.end(opts.input ?? '');
  });
}
