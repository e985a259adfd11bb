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
import { anonymousVolumeDirs } from './volumes';

/**
 * Deletes a tree this user owns entirely, as fast as Node can; false when some file belongs to
 * another id (then the helper must do it inside the user namespace).
 */
function removeOwnTree(dir: string): boolean {
  for (let attempt = 0; ; attempt++) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
      return true;
    } catch (err) {
      const code = errnoCode(err);
      if (code !== 'EACCES' && code !== 'EPERM' && code !== 'ENOTEMPTY') throw err;
      // overlayfs leaves its work/work directory mode 0: a directory of our own that we may
      // open up. Anything else (files of subordinate ids) is the helper's job.
      if (attempt > 0 || !openOwnDirs(dir)) return false;
    }
  }
}

/** chmod u+rwx on the directories below `dir` that belong to us and refuse us; true if any. */
function openOwnDirs(dir: string): boolean {
  const uid = process.getuid?.() ?? 0;
  let changed = false;
  const walk = (d: string): void => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(d);
    } catch {
      return;
    }
    if (!st.isDirectory() || st.uid !== uid) return;
    if ((st.mode & 0o700) !== 0o700) {
      fs.chmodSync(d, (st.mode & 0o7777) | 0o700);
      changed = true;
    }
    let names: string[];
    try {
      names = fs.readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) walk(path.join(d, n));
  };
  walk(dir);
  return changed;
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
    // rm -f kills at once, as docker does; with -t, the stop signal first and then SIGKILL after
    // that many seconds, as podman's stop does.
    if (opts.timeout !== undefined && opts.timeout > 0) {
      const { stopContainer } = await import('./lifecycle');
      await stopContainer(store, c, opts.timeout);
    } else {
      await killContainer(c, 'SIGKILL');
      await waitForExit(store, c.config.id, 10_000);
    }
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
  if (opts.volumes) paths.push(...anonymousVolumeDirs(store, c.config.mounts));
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
