// The shape every benchmark shares: contenders (tspod, podman, a shell floor) run the same job N
// times in rotating order on one file system, each run prepared (untimed, as root) and measured
// (as the bench user); the outcome is one Row of the report.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { UserInfo } from '../../lib';
import type { MemoryPeak } from './memory';
import { measureAs, settle } from './proc';
import type { BenchImage } from './setup';
import { rotation, summarize, type Summary } from './stats';

export type FsName = 'root' | 'loop';

export interface BenchFs {
  name: FsName;
  /** A directory on that file system owned by the bench user, for stores and scratch. */
  dir: string;
  /** For the report: what the file system is. */
  label: string;
}

/** An engine under test. */
export interface Tool {
  name: 'tspod' | 'podman';
  /** The command line of `TOOL ARGS` with its state on `fs`. */
  argv(fs: BenchFs, args: string[]): string[];
  /** The directories holding its state on `fs`: emptied (as root) for a cold run. */
  stateDirs(fs: BenchFs): string[];
}

export interface BenchContext {
  user: UserInfo;
  /** The bench user's login environment (XDG_RUNTIME_DIR included). */
  env: Record<string, string>;
  filesystems: BenchFs[];
  tools: Tool[];
  images: Map<string, BenchImage>;
  /** --runs: overrides every benchmark's own repetition count. */
  runs?: number;
  /** --only: the case names (images, for pull) to run; all when undefined. */
  cases?: string[];
  /** Where failed runs' output is kept. */
  logDir: string;
  /** Adds a finished row to the report (printed at the end, saved as JSON). */
  record(row: Row): void;
}

export interface Contender {
  /** tspod, podman, or a floor's name. */
  name: string;
  /**
   * Untimed, before each run (and once after the last): empty the stores as root, say, or bring a
   * container into the state the run expects (lib/proc.ts runAsUser).
   */
  prepare?(): void | Promise<void>;
  argv: string[];
  /** Added to the bench user's environment for this contender's runs. */
  env?: Record<string, string>;
}

export interface Result {
  /** Wall-clock seconds of the successful runs. */
  seconds?: Summary;
  /** Memory of the run with the largest tree peak. */
  peak?: MemoryPeak;
  runs: number;
  failures: number;
  /** Why the contender was not run at all ("not available": the command does not exist yet). */
  note?: string;
}

export interface Goal {
  /** tspod median / podman median must not exceed this. */
  maxRatio?: number;
  /** tspod's tree peak (MB) must not exceed this. */
  maxPeakMB?: number;
  /** tspod median / the named contender's median must not exceed the value (Row.others). */
  maxRatioVs?: Record<string, number>;
}

export interface Row {
  benchmark: string;
  /** What was measured within the benchmark: the image, for pull. */
  case: string;
  fs: FsName;
  results: Record<string, Result>;
  /** The contender (not tspod or podman) shown in the floor column, if any. */
  floor?: string;
  /** Further contenders (the unbundled build, say), shown with tspod's ratio to each. */
  others?: string[];
  goal?: Goal;
  /** /proc/loadavg's three figures before and after the case: other work skews short runs most. */
  load?: { before: string; after: string };
}

export function wantCase(ctx: BenchContext, name: string): boolean {
  return !ctx.cases || ctx.cases.includes(name);
}

function progress(msg: string): void {
  process.stderr.write(msg);
}

/**
 * Runs each contender `runs` times, the order rotating per repetition, and summarizes. A failed
 * run (non-zero exit) is not timed: its output goes to ctx.logDir and it counts as a failure.
 */
export async function contest(
  ctx: BenchContext,
  what: { benchmark: string; case: string; fs: BenchFs; runs: number; contenders: Contender[]; timeout?: number },
): Promise<Record<string, Result>> {
  const runs = ctx.runs ?? what.runs;
  const times = new Map<string, number[]>();
  const results: Record<string, Result> = {};
  for (const c of what.contenders) {
    times.set(c.name, []);
    results[c.name] = { runs, failures: 0 };
  }
  for (let i = 0; i < runs; i++) {
    progress(`  ${what.benchmark} ${what.case} on ${what.fs.name} #${i + 1}:`);
    for (const c of rotation(what.contenders, i)) {
      await c.prepare?.();
      settle();
      const m = await measureAs(ctx.user, c.argv, { env: c.env ? { ...ctx.env, ...c.env } : ctx.env, timeout: what.timeout });
      const r = results[c.name];
      if (m.code === 0) {
        times.get(c.name)!.push(m.wallMs / 1000);
        progress(` ${c.name} ${(m.wallMs / 1000).toFixed(2)}s`);
        if (m.memory && (!r.peak || m.memory.treePeakBytes > r.peak.treePeakBytes)) r.peak = m.memory;
      } else {
        r.failures++;
        const log = path.join(ctx.logDir, `${what.benchmark}-${what.case}-${what.fs.name}-${c.name}-${i + 1}.log`);
        fs.mkdirSync(ctx.logDir, { recursive: true });
        fs.writeFileSync(
          log,
          `$ ${c.argv.join(' ')}\nexit ${m.code ?? m.signal}${m.timedOut ? ' (timed out)' : ''}\n--- stdout\n${m.stdout}\n--- stderr\n${m.stderr}`,
        );
        progress(` ${c.name} FAILED (${log})`);
      }
    }
    progress('\n');
  }
  // The stores of the last runs hold up to a few GB of the user's disk; nothing reads them.
  for (const c of what.contenders) await c.prepare?.();
  for (const [name, t] of times) if (t.length) results[name].seconds = summarize(t);
  return results;
}

/** One benchmark: `sh test/bench/run.sh NAME`. Registered in benchmarks/index.ts. */
export interface Benchmark {
  name: string;
  /** One line for --help. */
  summary: string;
  /** Runs its cases on ctx.filesystems with ctx.tools, recording a Row per case and file system. */
  run(ctx: BenchContext): Promise<void>;
}
