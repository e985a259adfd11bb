// Runs a command as the bench user and measures it: wall-clock time from spawn to exit, and the
// peak memory of its process tree (lib/memory.ts). Also the root-side chores between runs.

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { CLEAN_PATH, mountsUnder, type UserInfo } from '../../lib';
import { RunCgroup, type MemoryPeak } from './memory';

export interface Measured {
  wallMs: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  memory?: MemoryPeak;
}

export interface MeasureOptions {
  /** The whole environment of the command (see loginEnv). */
  env: Record<string, string>;
  cwd?: string;
  /** Milliseconds; the process group is killed then. Default 15 minutes. */
  timeout?: number;
  /** Measure the process tree's memory (needs a cgroup, see lib/memory.ts). Default true. */
  memory?: boolean;
}

// The shell puts itself into the run's cgroup and then becomes setpriv, which becomes the command:
// every process of the run is in the cgroup from its first instruction, and no extra process stays
// around. Then it writes one byte on fd 3 and the clock starts: joining a v1 cgroup waits for an
// RCU grace period (~10 ms here) and forking this runner takes a few more, the same for every
// contender, which would add a constant to every time and pull the ratios of short commands
// (`ps`: 60 ms) towards 1. What stays in the time is setpriv's exec (~1 ms) and the command.
const WRAPPER = 'if [ -n "$0" ]; then echo $$ > "$0" || exit 125; fi; printf x >&3; exec 3>&-; exec "$@"';

/** The environment a fresh login of `user` has (as test/lib's runAs), with `runtimeDir` as XDG_RUNTIME_DIR. */
export function loginEnv(user: UserInfo, runtimeDir: string): Record<string, string> {
  return {
    HOME: user.home,
    USER: user.name,
    LOGNAME: user.name,
    PATH: CLEAN_PATH,
    XDG_RUNTIME_DIR: runtimeDir,
    LANG: 'C.UTF-8',
    NO_COLOR: '1',
  };
}

export function measureAs(user: UserInfo, argv: string[], opts: MeasureOptions): Promise<Measured> {
  if (user.uid === 0) throw new Error(`refusing to benchmark as ${user.name}: it is root`);
  const cg = opts.memory === false ? undefined : RunCgroup.create();
  const setpriv = ['/usr/bin/setpriv', '--reuid', String(user.uid), '--regid', String(user.gid), '--init-groups', '--'];
  const args = ['-c', WRAPPER, cg?.procsFile ?? '', ...setpriv, ...argv];
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let t0 = process.hrtime.bigint();
    const child = spawn('/bin/sh', args, { env: opts.env, cwd: opts.cwd ?? user.home, detached: true, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    cg?.start();
    // The wrapper's byte: the command is about to start (see WRAPPER).
    child.stdio[3]?.once('data', () => {
      t0 = process.hrtime.bigint();
    });
    let wallMs = 0;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, opts.timeout ?? 15 * 60_000);
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    let memory: MemoryPeak | undefined;
    child.on('exit', () => {
      wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      memory = cg?.stop();
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      cg?.stop();
      cg?.remove();
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      cg?.remove();
      resolve({
        wallMs,
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
        memory,
      });
    });
  });
}

/** Runs a command as root (setup chores); throws with its output when it fails. */
export function runRoot(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(argv[0], argv.slice(1), { cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${argv.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status ?? r.signal}:\n${(r.stdout + r.stderr).trim()}`);
  return r.stdout;
}

/**
 * Makes `dir` an empty directory owned by the user. Removed as root: a store holds files of the
 * user's subordinate ids and directories without write permission. Mounts left inside (none are
 * expected from a pull) are detached first so rm does not walk into them.
 */
export function emptyDir(dir: string, user: UserInfo, mode = 0o700): void {
  for (const mp of mountsUnder(dir)) spawnSync('umount', ['-l', mp]);
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  fs.mkdirSync(dir, { recursive: true, mode });
  fs.chownSync(dir, user.uid, user.gid);
  fs.chmodSync(dir, mode);
}

/**
 * Writes back dirty pages before a timed run, so a run does not pay for the previous run's
 * writeback (or the removal of its store) and none leaves its own for the next one.
 */
export function settle(): void {
  spawnSync('sync');
}

/**
 * Runs a command as the user, untimed and unmeasured (a benchmark's setup: pull the image, create
 * containers); throws with its output when it fails.
 */
export async function runAsUser(user: UserInfo, argv: string[], env: Record<string, string>): Promise<string> {
  const r = await measureAs(user, argv, { env, memory: false, timeout: 10 * 60_000 });
  if (r.code !== 0) {
    throw new Error(`${argv.join(' ')} (as ${user.name}) exited ${r.code ?? r.signal}${r.timedOut ? ' (timed out)' : ''}:\n${(r.stdout + r.stderr).trim()}`);
  }
  return r.stdout;
}

/** The three load averages of /proc/loadavg, as "0.52 0.80 1.10". */
export function loadAverage(): string {
  return fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}
