// Detached containers (issue "Detached containers"), each tool against the other with the image
// already in its store:
//   run-d+rm-f  `run -d --name bench-cycle busybox sleep 3600` then `rm -f -t 0 bench-cycle`, timed
//               together; `-t 0` because podman's `rm -f` first waits the stop timeout (10 s) for a
//               sleep that, as the container's pid 1, ignores SIGTERM: both then kill at once,
//               docker's `rm -f`.
//   run-d, rm-f the two halves alone (the other half untimed, before each run), to say which one
//               the time goes to.
//   ps-a, images `ps -a` and `images` with 51 containers (50 created, one running) and 10 images
//               (busybox and 9 variants of it, lib/variants.ts) in the store.
//   exec        `exec bench-exec true` into a running container.
// When tspod has no `exec` yet, that case reports "not available" instead of failing the run.

import type { Benchmark, BenchContext, BenchFs, Contender, Result, Tool } from '../lib/contest';
import { wantCase } from '../lib/contest';
import { BUSYBOX, contestCase, readFromDisk, resetStore, storeWith } from '../lib/containers';
import { runAsUser } from '../lib/proc';
import { ensureVariants } from '../lib/variants';

const CASES = ['run-d+rm-f', 'run-d', 'rm-f', 'ps-a', 'images', 'exec'] as const;
const RUNS: Record<(typeof CASES)[number], number> = { 'run-d+rm-f': 15, 'run-d': 15, 'rm-f': 15, 'ps-a': 20, images: 20, exec: 20 };
/** The target for every case: tspod at most half podman's time. */
const GOAL = { maxRatio: 0.5 };
const CONTAINERS = 50;
const IMAGES = 10;
const CYCLE = 'bench-cycle';
const EXEC = 'bench-exec';
/** Long enough to outlive every case; the containers are removed at the end anyway. */
const SLEEP = ['sleep', '3600'];

const runDetached = (t: Tool, fs: BenchFs, name: string) => t.argv(fs, ['run', '-d', '--name', name, BUSYBOX, ...SLEEP]);
const removeForce = (t: Tool, fs: BenchFs, name: string, ...extra: string[]) => t.argv(fs, ['rm', '-f', '-t', '0', ...extra, name]);

/** The detached cases, on a store holding the images and no container. */
async function detached(ctx: BenchContext, fs: BenchFs): Promise<void> {
  const quiet = (argv: string[]) => runAsUser(ctx.user, argv, ctx.env).then(() => undefined);
  if (wantCase(ctx, 'run-d+rm-f')) {
    const contenders: Contender[] = ctx.tools.map((t) => ({
      name: t.name,
      // One shell for both commands: its start (~1 ms) is the same for each tool.
      argv: [
        '/bin/sh',
        '-c',
        'set -e; image=$1; shift; "$@" run -d --name "$0" "$image" sleep 3600 >/dev/null; "$@" rm -f -t 0 "$0" >/dev/null',
        CYCLE,
        BUSYBOX,
        ...t.argv(fs, []),
      ],
    }));
    await contestCase(ctx, { benchmark: 'lifecycle', case: 'run-d+rm-f', fs, runs: RUNS['run-d+rm-f'], contenders, goal: GOAL });
  }
  if (wantCase(ctx, 'run-d')) {
    const contenders: Contender[] = ctx.tools.map((t) => ({
      name: t.name,
      prepare: () => quiet(removeForce(t, fs, CYCLE, '--ignore')),
      argv: runDetached(t, fs, CYCLE),
    }));
    await contestCase(ctx, { benchmark: 'lifecycle', case: 'run-d', fs, runs: RUNS['run-d'], contenders, goal: GOAL });
  }
  if (wantCase(ctx, 'rm-f')) {
    const contenders: Contender[] = ctx.tools.map((t) => ({
      name: t.name,
      prepare: () => quiet(runDetached(t, fs, CYCLE)),
      argv: removeForce(t, fs, CYCLE),
    }));
    await contestCase(ctx, { benchmark: 'lifecycle', case: 'rm-f', fs, runs: RUNS['rm-f'], contenders, goal: GOAL });
    // contest() prepares once more after the last run: that container goes too.
    for (const t of ctx.tools) await quiet(removeForce(t, fs, CYCLE, '--ignore'));
  }
}

/** Whether `tspod exec` exists: an unknown verb is a usage error naming it, not a failed exec. */
async function execAvailable(ctx: BenchContext, t: Tool, fs: BenchFs): Promise<string | undefined> {
  try {
    await runAsUser(ctx.user, t.argv(fs, ['exec', EXEC, 'true']), ctx.env);
    return undefined;
  } catch (err) {
    const msg = (err as Error).message;
    if (/unrecognized command|unknown command|command not found/i.test(msg)) return 'not available';
    return undefined; // it exists but failed: the timed runs fail too and keep the output
  }
}

/** ps -a, images and exec, on a store with CONTAINERS containers and IMAGES images. */
async function populated(ctx: BenchContext, fs: BenchFs, refs: string[]): Promise<void> {
  for (const t of ctx.tools) {
    for (let i = 0; i < CONTAINERS; i++) {
      const name = `bench-c${String(i).padStart(2, '0')}`;
      await runAsUser(ctx.user, t.argv(fs, ['create', '--name', name, refs[i % refs.length], 'true']), ctx.env);
    }
    await runAsUser(ctx.user, runDetached(t, fs, EXEC), ctx.env);
  }
  const simple = async (name: 'ps-a' | 'images', args: string[]) => {
    if (!wantCase(ctx, name)) return;
    const contenders: Contender[] = ctx.tools.map((t) => ({ name: t.name, argv: t.argv(fs, args) }));
    await contestCase(ctx, { benchmark: 'lifecycle', case: name, fs, runs: RUNS[name], contenders, goal: GOAL });
  };
  await simple('ps-a', ['ps', '-a']);
  await simple('images', ['images']);
  if (wantCase(ctx, 'exec')) {
    const skipped: Record<string, Result> = {};
    const contenders: Contender[] = [];
    for (const t of ctx.tools) {
      const note = t.name === 'tspod' ? await execAvailable(ctx, t, fs) : undefined;
      if (note) {
        process.stderr.write(`  lifecycle exec on ${fs.name}: tspod: ${note} (no \`tspod exec\` in this build)\n`);
        skipped[t.name] = { runs: 0, failures: 0, note };
      } else {
        contenders.push({ name: t.name, argv: t.argv(fs, ['exec', EXEC, 'true']) });
      }
    }
    await contestCase(ctx, { benchmark: 'lifecycle', case: 'exec', fs, runs: RUNS.exec, contenders, goal: GOAL, skipped });
  }
}

export const lifecycle: Benchmark = {
  name: 'lifecycle',
  summary: 'run -d + rm -f, ps -a and images with 51 containers and 10 images, exec into a running container',
  async run(ctx) {
    if (!CASES.some((c) => wantCase(ctx, c))) return;
    const refs = [BUSYBOX, ...(await ensureVariants(IMAGES - 1))];
    for (const fs of ctx.filesystems) {
      readFromDisk(ctx, fs);
      for (const t of ctx.tools) await storeWith(ctx, t, fs, refs);
      await detached(ctx, fs);
      if (['ps-a', 'images', 'exec'].some((c) => wantCase(ctx, c))) await populated(ctx, fs, refs);
      for (const t of ctx.tools) await resetStore(ctx, t, fs);
    }
  },
};
