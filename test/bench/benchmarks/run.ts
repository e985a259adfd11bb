// `tspod run --rm busybox true` against `podman run --rm busybox true` (issue "Run containers
// rootless"): the whole life of a short container, from the command line to its exit code and
// removal, with the image already in the store; with each tool's default network (tspod: pasta;
// podman 4.3: slirp4netns), with --network none, and with slirp4netns for both (the same network
// program on each side). Memory is the peak footprint of every process of the run: tspod, its
// helper, pasta or slirp4netns.

import { wantCase, type Benchmark, type Contender } from '../lib/contest';
import { BUSYBOX, contestCase, readFromDisk, resetStore, storeWith } from '../lib/containers';

const CASES: { name: string; flags: string[] }[] = [
  { name: 'default', flags: [] },
  { name: 'network-none', flags: ['--network', 'none'] },
  { name: 'slirp4netns', flags: ['--network', 'slirp4netns'] },
];
/** Fast commands: enough repetitions for a stable median on a shared machine. */
const RUNS = 20;
/** The targets: tspod at most half podman's time, and under 80 MB for the whole run. */
const GOAL = { maxRatio: 0.5, maxPeakMB: 80 };

export const run: Benchmark = {
  name: 'run',
  summary: 'run --rm busybox true (default network, --network none, slirp4netns), image already pulled',
  async run(ctx) {
    const cases = CASES.filter((c) => wantCase(ctx, c.name));
    if (!cases.length) return;
    for (const fs of ctx.filesystems) {
      readFromDisk(ctx, fs);
      for (const t of ctx.tools) await storeWith(ctx, t, fs, [BUSYBOX]);
      for (const c of cases) {
        const contenders: Contender[] = ctx.tools.map((t) => ({
          name: t.name,
          argv: t.argv(fs, ['run', '--rm', ...c.flags, BUSYBOX, 'true']),
        }));
        await contestCase(ctx, { benchmark: 'run', case: c.name, fs, runs: RUNS, contenders, goal: GOAL });
      }
      for (const t of ctx.tools) await resetStore(ctx, t, fs);
    }
  },
};
