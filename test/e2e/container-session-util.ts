// What the exec, attach, top and cp suites share: a store with detached containers that are
// killed at the end (removing a store does not end its monitors), directories of the test user
// for files to copy, and waiting for a condition.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freshStore, removeStore, REGISTRY, TEST_USER, tspod, userInfo, type RunOptions, type RunResult } from '../lib';

export const IMAGE = `${REGISTRY}/busybox:latest`;

export interface Bed {
  store: string;
  t(args: string[], opts?: RunOptions): Promise<RunResult>;
  /** Kills every monitor and container of the store, then removes it. */
  close(): void;
}

export async function openBed(user = TEST_USER): Promise<Bed> {
  const store = await freshStore(user);
  return {
    store,
    t: (args, opts) => tspod(user, args, { timeout: 60_000, ...opts, store }),
    close: () => {
      killContainers(store);
      removeStore(store);
    },
  };
}

/** SIGKILL to the monitor and the process of each container (their pid files). */
export function killContainers(store: string): void {
  const dir = path.join(store, 'containers');
  let ids: string[] = [];
  try {
    ids = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const id of ids) {
    let pids: number[] = [];
    try {
      pids = fs.readFileSync(path.join(dir, id, 'userdata', 'pid'), 'utf8').trim().split(/\s+/).map(Number);
    } catch {
      continue;
    }
    for (const pid of pids.reverse()) {
      try {
        if (pid > 1) process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** A fresh directory of `user` (0755) under its home, removed by the caller. */
export function userDir(prefix: string, user = TEST_USER): string {
  const u = userInfo(user);
  const dir = path.join(u.home, `${prefix}-${crypto.randomBytes(4).toString('hex')}`);
  fs.mkdirSync(dir, { mode: 0o755 });
  fs.chownSync(dir, u.uid, u.gid);
  return dir;
}

/** Writes a file as the user would have: owned by them, with the given mode and mtime. */
export function userFile(file: string, content: string | Buffer, mode = 0o644, mtime?: Date, user = TEST_USER): void {
  const u = userInfo(user);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  fs.chmodSync(file, mode);
  fs.chownSync(file, u.uid, u.gid);
  if (mtime) fs.utimesSync(file, mtime, mtime);
}

/** Polls `check` every 50 ms until it returns a value, or fails after `ms`. */
export async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function show(r: RunResult): string {
  return `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}
