// `tspod unshare`: a command inside the user namespace of the store (and a mount namespace),
// as root there, to look at or change files owned by subordinate ids.

import * as cp from 'node:child_process';
import { TspodError } from './errors';
import { usernsArgv } from './helper';

export function runUnshare(cmd: string[], opts: { env: NodeJS.ProcessEnv; storeRoot: string }): Promise<number> {
  const argv = usernsArgv(cmd, { mount: true });
  const env = { ...opts.env, TSPOD_UNSHARED: '1', CONTAINERS_GRAPHROOT: opts.storeRoot };
  return new Promise((resolve, reject) => {
    const child = cp.spawn(argv[0], argv.slice(1), { stdio: 'inherit', env });
    // The terminal's signals reach the child directly (same process group); tspod only waits.
    const ignore = () => undefined;
    for (const s of ['SIGINT', 'SIGQUIT', 'SIGTSTP'] as const) process.on(s, ignore);
    child.on('error', (e) => reject(new TspodError(`unshare: ${e.message}`)));
    child.on('exit', (code, signal) => {
      for (const s of ['SIGINT', 'SIGQUIT', 'SIGTSTP'] as const) process.off(s, ignore);
      resolve(code ?? 128 + (signal ? (require('node:os').constants.signals[signal] as number) : 0));
    });
  });
}
