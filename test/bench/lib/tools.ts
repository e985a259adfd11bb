// The two engines, each with its whole state on the file system under test: tspod's store
// (--root) and podman's graphroot (--root) in that file system's bench directory; podman's runroot
// (locks and mount state only) in the runtime directory, as on a system with /run/user.

import * as path from 'node:path';
import { TSPOD_BIN } from '../../lib';
import type { BenchFs, Tool } from './contest';

/** tspod as `cmd` (default dist/tspod; e.g. ['/path/node', 'build/cmd/tspod.js'] for the unbundled build). */
export function tspodTool(cmd: string[] = [TSPOD_BIN]): Tool {
  return {
    name: 'tspod',
    argv: (fs, args) => [...cmd, '--root', path.join(fs.dir, 'tspod'), ...args],
    stateDirs: (fs) => [path.join(fs.dir, 'tspod')],
  };
}

export function podmanTool(runtimeDir: string): Tool {
  const runroot = (fs: BenchFs) => path.join(runtimeDir, `podman-runroot-${fs.name}`);
  return {
    name: 'podman',
    argv: (fs, args) => ['podman', '--root', path.join(fs.dir, 'podman'), '--runroot', runroot(fs), ...args],
    stateDirs: (fs) => [path.join(fs.dir, 'podman'), runroot(fs)],
  };
}
