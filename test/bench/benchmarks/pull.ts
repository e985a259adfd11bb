// `tspod pull` against `podman pull`: each image from the loopback registry into an empty store,
// on each file system, the tools alternating; beside them the floor of a shell pipeline that
// downloads and unpacks the Debian-sized layer (curl | tar -xz) with no storage bookkeeping at all.

import * as path from 'node:path';
import { contest, wantCase, type Benchmark, type BenchContext, type BenchFs, type Contender } from '../lib/contest';
import { emptyDir } from '../lib/proc';
import { imageRef, REGISTRY_HTTP, type BenchImage } from '../lib/setup';

/** Image, repetitions (the big one is slow), and tspod's memory ceiling in MB where the issue sets one. */
const CASES: { image: string; runs: number; maxPeakMB?: number }[] = [
  { image: 'small', runs: 5 },
  { image: 'many-layers', runs: 5 },
  { image: 'debian-like', runs: 5 },
  { image: 'big', runs: 3, maxPeakMB: 150 },
];
/** tspod's median over podman's, per the issue: at most 0.4 for every image. */
const MAX_RATIO = 0.4;
const FLOOR = 'curl|tar';

function floorContender(ctx: BenchContext, fs: BenchFs, image: BenchImage): Contender {
  const layer = image.layers[0];
  const url = `${REGISTRY_HTTP}/v2/${image.repository}/blobs/${layer.digest}`;
  const dir = path.join(fs.dir, 'floor');
  return {
    name: FLOOR,
    prepare: () => emptyDir(dir, ctx.user),
    argv: ['/bin/bash', '-o', 'pipefail', '-c', 'curl -sSf "$0" | tar -xz -C "$1"', url, dir],
  };
}

export const pull: Benchmark = {
  name: 'pull',
  summary: 'pull small, many-layer, Debian-sized and ~300 MB images into an empty store (and curl | tar -xz as the floor)',
  async run(ctx) {
    for (const fs of ctx.filesystems) {
      for (const c of CASES) {
        if (!wantCase(ctx, c.image)) continue;
        const image = ctx.images.get(c.image);
        if (!image) throw new Error(`bench image ${c.image} is missing from images.json`);
        const contenders: Contender[] = ctx.tools.map((t) => ({
          name: t.name,
          prepare: () => t.stateDirs(fs).forEach((d) => emptyDir(d, ctx.user)),
          argv: t.argv(fs, ['pull', imageRef(image)]),
        }));
        const single = image.layers.length === 1 && c.image !== 'small';
        if (single) contenders.push(floorContender(ctx, fs, image));
        const results = await contest(ctx, { benchmark: 'pull', case: c.image, fs, runs: c.runs, contenders });
        ctx.record({
          benchmark: 'pull',
          case: c.image,
          fs: fs.name,
          results,
          floor: single ? FLOOR : undefined,
          goal: { maxRatio: MAX_RATIO, maxPeakMB: c.maxPeakMB },
        });
      }
    }
  },
};
