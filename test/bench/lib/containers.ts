// What the container benchmarks (run, lifecycle, startup) share: executables read from disk rather
// than fresh from a build, a store that holds given images and nothing else (set up untimed as the
// bench user), and a case recorded with the machine's load around it.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { contest, type BenchContext, type BenchFs, type Contender, type Goal, type Result, type Tool } from './contest';
import { emptyDir, loadAverage, runAsUser } from './proc';

/** The test bed's busybox fixture (localhost:5000 is plain HTTP: pulls pass --tls-verify=false). */
export const BUSYBOX = 'localhost:5000/busybox';

/** Each file readFromDisk dropped, with its mtime then: a later build replaces it. */
const evicted = new Map<string, number>();

function resolveProgram(f: string): string {
  return f.includes('/') ? f : spawnSync('sh', ['-c', 'command -v "$0"', f], { encoding: 'utf8' }).stdout.trim();
}

function evict(file: string): void {
  // dd's documented way to advise the kernel to drop a whole file from the cache.
  spawnSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
  evicted.set(file, fs.statSync(file).mtimeMs);
}

/**
 * Drops the page-cache pages of the tools' executables (and `extra` files), so each is next read
 * from disk, as a program installed some time ago is. A file just written, as dist/tspod is by
 * every build, sits in the page cache in large folios that a process then maps whole: seen here,
 * `dist/tspod --version` at 56 MB file-backed resident memory right after a build and 36 MB once
 * read back from disk, with the same bytes. The untimed set-up runs that follow read them in again.
 */
export function readFromDisk(ctx: BenchContext, benchFs: BenchFs, extra: string[] = []): void {
  for (const f of new Set([...ctx.tools.map((t) => t.argv(benchFs, [])[0]), ...extra])) {
    const file = resolveProgram(f);
    if (file && fs.existsSync(file)) evict(file);
  }
}

/**
 * Drops again what readFromDisk dropped and has been rewritten since (another engineer's build
 * replaced dist/tspod mid-benchmark), and says so: the figures then mix two builds.
 */
function evictRebuilt(): void {
  for (const [file, mtime] of evicted) {
    const now = fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs;
    if (now === undefined || now === mtime) continue;
    process.stderr.write(`  (${file} was rewritten since the benchmark started: dropped from the page cache again)\n`);
    evict(file);
  }
}

/**
 * Empties the tool's state on `fs`: containers left running by an earlier case or an interrupted
 * run are killed first (`rm -a -f -t 0`, best effort), so no monitor or conmon outlives its
 * files, then the directories are removed as root.
 */
export async function resetStore(ctx: BenchContext, tool: Tool, benchFs: BenchFs): Promise<void> {
  await runAsUser(ctx.user, tool.argv(benchFs, ['rm', '-a', '-f', '-t', '0']), ctx.env).catch(() => undefined);
  for (const d of tool.stateDirs(benchFs)) emptyDir(d, ctx.user);
}

/** An empty store on `fs` into which `refs` have been pulled (untimed). */
export async function storeWith(ctx: BenchContext, tool: Tool, benchFs: BenchFs, refs: string[]): Promise<void> {
  await resetStore(ctx, tool, benchFs);
  for (const ref of refs) await runAsUser(ctx.user, tool.argv(benchFs, ['pull', '-q', '--tls-verify=false', ref]), ctx.env);
}

/** Runs `what` through contest() and records the row with the load average around it. */
export async function contestCase(
  ctx: BenchContext,
  what: {
    benchmark: string;
    case: string;
    fs: BenchFs;
    runs: number;
    contenders: Contender[];
    goal?: Goal;
    floor?: string;
    others?: string[];
    /** Results of contenders that could not run (say, tspod: not available). */
    skipped?: Record<string, Result>;
  },
): Promise<void> {
  evictRebuilt();
  const before = loadAverage();
  if (Number(before.split(' ')[0]) > 1.5) process.stderr.write(`  (load average ${before}: this case's figures will be noisy)\n`);
  const results = await contest(ctx, { benchmark: what.benchmark, case: what.case, fs: what.fs, runs: what.runs, contenders: what.contenders });
  ctx.record({
    benchmark: what.benchmark,
    case: what.case,
    fs: what.fs.name,
    results: { ...what.skipped, ...results },
    floor: what.floor,
    others: what.others,
    goal: what.goal,
    load: { before, after: loadAverage() },
  });
}
