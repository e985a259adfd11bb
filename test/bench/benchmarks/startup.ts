// Start-up of the one executable (issue "One executable"): `tspod --version` and `tspod ps` on an
// empty store against `podman --version` / `podman ps`, beside Node's own start (`node -e 0`, the
// Node 24 the executable is made of) as the floor, and the unbundled build (`node
// build/cmd/tspod.js`, TSPOD_HELPER=build/tspod-helper): the single file must not be slower.
// On the first file system given only: nothing here writes more than an empty store.

import * as path from 'node:path';
import { REPO_ROOT } from '../../lib';
import { wantCase, type Benchmark, type Contender } from '../lib/contest';
import { contestCase, readFromDisk, resetStore } from '../lib/containers';
import { runAsUser } from '../lib/proc';
import { tspodTool } from '../lib/tools';

const NODE = path.join(REPO_ROOT, 'node_modules/.bin/node');
const UNBUNDLED = 'unbundled';
const FLOOR = 'node -e 0';
const CASES: { name: string; args: string[] }[] = [
  { name: 'version', args: ['--version'] },
  { name: 'ps', args: ['ps'] },
];
const RUNS = 30;

export const startup: Benchmark = {
  name: 'startup',
  summary: '--version and ps on an empty store: the single file against podman, node -e 0 and the unbundled build',
  async run(ctx) {
    const cases = CASES.filter((c) => wantCase(ctx, c.name));
    if (!cases.length) return;
    const fs = ctx.filesystems[0];
    const unbundled = tspodTool([NODE, path.join(REPO_ROOT, 'build/cmd/tspod.js')]);
    const withTspod = ctx.tools.some((t) => t.name === 'tspod');
    readFromDisk(ctx, fs, [NODE, path.join(REPO_ROOT, 'build/tspod-helper')]);
    // An empty store that exists, as after a first use: podman creates its layout on first start.
    for (const t of ctx.tools) {
      await resetStore(ctx, t, fs);
      await runAsUser(ctx.user, t.argv(fs, ['ps']), ctx.env);
    }
    for (const c of cases) {
      const contenders: Contender[] = ctx.tools.map((t) => ({ name: t.name, argv: t.argv(fs, c.args) }));
      contenders.push({ name: FLOOR, argv: [NODE, '-e', '0'] });
      if (withTspod) {
        contenders.push({
          name: UNBUNDLED,
          argv: unbundled.argv(fs, c.args),
          env: { TSPOD_HELPER: path.join(REPO_ROOT, 'build/tspod-helper') },
        });
      }
      await contestCase(ctx, {
        benchmark: 'startup',
        case: c.name,
        fs,
        runs: RUNS,
        contenders,
        floor: FLOOR,
        others: withTspod ? [UNBUNDLED] : undefined,
        goal: withTspod ? { maxRatioVs: { [UNBUNDLED]: 1 } } : undefined,
      });
    }
    for (const t of ctx.tools) await resetStore(ctx, t, fs);
  },
};
