// Driving the built tspod-helper as a test user: its user namespace argv (built by core/idmap as
// tspod builds it), op streams encoded by core/layer/ops, and long-running helpers (lock).

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildMapping, mappingArgs, type IdMapping } from '../../core/idmap';
import { encodeOp, OPS_MAGIC, type Op } from '../../core/layer/ops';
import { HELPER_BIN } from './bed';
import { runAs, userEnv, type RunOptions, type RunResult } from './run';
import { userInfo } from './users';

export const HELPER = process.env.TSPOD_HELPER || HELPER_BIN;

/** The mapping tspod would use for `user`: its subordinate ranges, or the single-uid fallback. */
export function mappingFor(user: string): IdMapping {
  const u = userInfo(user);
  return buildMapping(u.uid, u.gid, u.subuid, u.subgid, true);
}

/** `tspod-helper userns --uidmap ... --gidmap ... [--mount] --`, ready for a command. */
export function usernsArgv(user: string, opts: { mount?: boolean } = {}): string[] {
  return [HELPER, 'userns', ...mappingArgs(mappingFor(user)), ...(opts.mount ? ['--mount'] : []), '--'];
}

/** Runs argv as root in `user`'s user namespace. */
export function runInUserns(user: string, argv: string[], opts: RunOptions & { mount?: boolean } = {}): Promise<RunResult> {
  return runAs(user, [...usernsArgv(user, opts), ...argv], opts);
}

export type StreamEntry = Op & { content?: Buffer };

/** Magic, the ops (with their file content) and, unless `end` is false, the 'E' record. */
export function opStream(entries: StreamEntry[], opts: { end?: boolean } = {}): Buffer {
  const parts: Buffer[] = [OPS_MAGIC];
  for (const e of entries) {
    const { content, ...op } = e;
    if (op.kind === 'f') op.size = op.size ?? content?.length ?? 0;
    parts.push(encodeOp(op));
    if (content) parts.push(content);
  }
  if (opts.end !== false) parts.push(encodeOp({ kind: 'E', path: '' }));
  return Buffer.concat(parts);
}

export interface UnpackResult extends RunResult {
  /** The last stdout line, parsed (the report or `{error, path}`). */
  json: Record<string, unknown> | undefined;
}

/** `tspod-helper unpack DEST` as tspod runs it for `user` (--ignore-chown-errors when single). */
export async function unpackAs(user: string, dest: string, stream: Buffer, env?: RunOptions['env']): Promise<UnpackResult> {
  const verb = ['unpack', ...(mappingFor(user).single ? ['--ignore-chown-errors'] : []), dest];
  const r = await runInUserns(user, [HELPER, ...verb], { input: stream, env, timeout: 60_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let json: Record<string, unknown> | undefined;
  try {
    json = line ? (JSON.parse(line) as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  return { ...r, json };
}

/** A fresh directory under /tmp owned by `user` (mode 0755, so root-run checks can read it). */
export function userTempDir(user: string, label = 'helper'): string {
  const u = userInfo(user);
  const dir = fs.mkdtempSync(path.join('/tmp', `tspod-${label}-`));
  fs.chmodSync(dir, 0o755);
  fs.chownSync(dir, u.uid, u.gid);
  return dir;
}

/**
 * mkdir -p where every directory it creates belongs to the user (DEST and the siblings that
 * hostile layers aim at must be writable by the user, or an escape would fail for the wrong reason).
 */
export function userMkdir(user: string, dir: string, mode = 0o755): string {
  const u = userInfo(user);
  const missing: string[] = [];
  for (let d = path.resolve(dir); !fs.existsSync(d); d = path.dirname(d)) missing.unshift(d);
  for (const d of missing) {
    fs.mkdirSync(d, { mode });
    fs.chmodSync(d, mode);
    fs.chownSync(d, u.uid, u.gid);
  }
  return dir;
}

/** A helper (or anything) left running as `user`; setpriv execs, so `pid` is the program's own. */
export interface Running {
  child: ChildProcessWithoutNullStreams;
  pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves true once stdout contains `text`, false after `ms`. */
  waitForOutput(text: string, ms: number): Promise<boolean>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnAs(user: string, argv: string[]): Running {
  const u = userInfo(user);
  const args = ['--reuid', String(u.uid), '--regid', String(u.gid), '--init-groups', '--', ...argv];
  const child = spawn('/usr/bin/setpriv', args, { env: userEnv(u), cwd: u.home, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdin.on('error', () => undefined);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    pid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    waitForOutput: (text, ms) =>
      new Promise((resolve) => {
        if (out.includes(text)) return resolve(true);
        const timer = setTimeout(() => {
          child.stdout.off('data', check);
          resolve(false);
        }, ms);
        const check = (): void => {
          if (!out.includes(text)) return;
          clearTimeout(timer);
          child.stdout.off('data', check);
          resolve(true);
        };
        child.stdout.on('data', check);
      }),
    exited,
  };
}
