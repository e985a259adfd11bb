// How to run this tspod again (from a unit file, or from the monitor when a container ends):
// the single executable itself, or node with the script when it runs from the build tree.

import * as path from 'node:path';

export function selfCommand(): string[] {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sea = require('node:sea') as { isSea(): boolean };
    if (sea.isSea()) return [process.execPath];
  } catch {
    // node:sea is missing on old runtimes: not a single executable then
  }
  return process.argv[1] ? [process.execPath, path.resolve(process.argv[1])] : [process.execPath];
}
