// Runs dist/tspod as a test user against a store of its own, so no test sees another's images.

import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TSPOD_BIN } from './bed';
import { runAs, RunOptions, RunResult } from './run';
import { userInfo } from './users';

export interface TspodOptions extends RunOptions {
  /** A store from freshStore(); without it the call gets a fresh store that is removed afterwards. */
  store?: string;
}

const live = new Set<string>();

function storesDir(user: string): string {
  return path.join(userInfo(user).home, 'stores');
}

/** An empty store directory (0700) owned by the user, under ~/stores; removed at the latest when the process exits. */
export async function freshStore(user: string): Promise<string> {
  const info = userInfo(user);
  const parent = storesDir(user);
  if (!fs.existsSync(parent)) {
    fs.mkdirSync(parent, { mode: 0o755 });
    fs.chownSync(parent, info.uid, info.gid);
  }
  const dir = path.join(parent, crypto.randomBytes(6).toString('hex'));
  fs.mkdirSync(dir, { mode: 0o700 });
  fs.chownSync(dir, info.uid, info.gid);
  live.add(dir);
  return dir;
}

/** Mount points at or below `dir` in our mount namespace, deepest first (mountinfo field 5, octal-escaped). */
export function mountsUnder(dir: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((mp): mp is string => !!mp)
    .map((mp) => mp.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((mp) => mp === dir || mp.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
}

/**
 * Removes a store as root: files in it may belong to the user's subordinate uids, and directories
 * may lack write permission, so the user could not always remove it alone. A mount left behind in
 * it (a fuse-overlayfs that outlived its container) is detached first, or rm would walk into it.
 */
export function removeStore(dir: string): void {
  const madeHere = path.basename(path.dirname(dir)) === 'stores' && /^[0-9a-f]{12}$/.test(path.basename(dir));
  if (!madeHere && !live.has(dir)) {
    throw new Error(`refusing to remove ${dir}: not a store made by freshStore()`);
  }
  for (const mp of mountsUnder(dir)) spawnSync('umount', ['-l', mp]);
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  live.delete(dir);
}

process.on('exit', () => {
  for (const dir of live) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // a leftover store in ~/stores is harmless; the next run does not read it
    }
  }
});

/** `tspod --root STORE ARGS...` as `user`. */
export async function tspod(user: string, args: string[], opts: TspodOptions = {}): Promise<RunResult> {
  if (!fs.existsSync(TSPOD_BIN)) throw new Error(`${TSPOD_BIN} is missing: run npm run build`);
  const store = opts.store ?? (await freshStore(user));
  try {
    return await runAs(user, [TSPOD_BIN, '--root', store, ...args], opts);
  } finally {
    if (!opts.store) removeStore(store);
  }
}

/** Gives `fn` a fresh store and a tspod bound to it, and removes the store afterwards whatever happens. */
export async function withStore<T>(
  user: string,
  fn: (run: (args: string[], opts?: RunOptions) => Promise<RunResult>, store: string) => Promise<T>,
): Promise<T> {
  const store = await freshStore(user);
  try {
    return await fn((args, opts) => tspod(user, args, { ...opts, store }), store);
  } finally {
    removeStore(store);
  }
}
