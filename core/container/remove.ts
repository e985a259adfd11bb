// `rm` and `container prune`. A running container needs force (then it is killed first). Its
// directory leaves the store with one rename under the lock, then is deleted; files owned by
// subordinate ids are deleted inside the user namespace.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { TspodError, errnoCode } from '../errors';
import { removeTrees } from '../helper';
import type { Store } from '../store/store';
import { killContainer, waitForExit } from './signal';
import { listContainers, releaseName, type Container } from './record';
import { attachSocketPath } from './start';

/**
 * Deletes a tree this user owns entirely, as fast as Node can; false when some file belongs to
 * another id (then the helper must do it inside the user namespace).
 */
function removeOwnTree(dir: string): boolean {
  try {
    fs.rmSync(dir, { recursive: true, force: true });
    return true;
  } catch (err) {
    const code = errnoCode(err);
    if (code !== 'EACCES' && code !== 'EPERM' && code !== 'ENOTEMPTY') throw err;
    return false;
  }
}

export async function deleteTrees(paths: string[]): Promise<void> {
  const rest = paths.filter((p) => !removeOwnTree(p));
  if (rest.length) await removeTrees(rest);
}

export interface RemoveOptions {
  force?: boolean;
  /** Remove the container's anonymous volumes too. */
  volumes?: boolean;
  /** Seconds to wait after the stop signal before SIGKILL (rm -f -t). */
  timeout?: number;
}

export async function removeContainer(store: Store, c: Container, opts: RemoveOptions = {}): Promise<void> {
  if (c.state.status === 'running' || c.state.status === 'stopping') {
    if (!opts.force) {
      throw new TspodError(
        `cannot remove container ${c.config.id} as it is running - running or paused containers cannot be removed without force: container state improper`,
        { exitCode: 2 },
      );
    }
    await killContainer(c, 'SIGKILL');
    await waitForExit(store, c.config.id, 10_000);
  }
  // One rename takes the container out of the store; then its name is free again.
  const aside = path.join(store.tmpDir, `${process.pid}-${c.config.id.slice(0, 8)}-rmctr`);
  let moved = true;
  try {
    fs.renameSync(c.dir, aside);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
    moved = false;
  }
  releaseName(store, c.config.name, c.config.id);
  // A monitor that was killed could not remove its attach socket.
  fs.rmSync(attachSocketPath(c), { force: true });
  const paths = moved ? [aside] : [];
  if (opts.volumes) {
    for (const m of c.config.mounts) {
      const name = path.basename(path.dirname(m.source));
      if (m.source.startsWith(path.join(store.root, 'volumes')) && name.startsWith('anon-')) paths.push(path.dirname(m.source));
    }
  }
  await deleteTrees(paths);
}

/** Removes every container that is not running; returns their IDs. */
export async function pruneContainers(store: Store): Promise<string[]> {
  const out: string[] = [];
  for (const c of listContainers(store)) {
    if (c.state.status === 'running' || c.state.status === 'stopping') continue;
    await removeContainer(store, c, { volumes: true });
    out.push(c.config.id);
  }
  return out;
}
