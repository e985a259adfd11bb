// Containers created with --rm that have ended but are still on disk: their monitor or helper
// removes them as they end, unless it was killed first. Commands that list or act on containers
// finish the job, loading the removal code only when there is something to remove.

import type { Store } from '../store/store';
import { listContainers, type Container } from './record';

/** Removes them; returns the containers that remain. */
export async function removeEndedAutoRemove(store: Store): Promise<Container[]> {
  const all = listContainers(store);
  const ended = all.filter((c) => c.config.autoRemove && (c.state.status === 'exited' || c.state.status === 'stopped'));
  if (ended.length === 0) return all;
  const { removeContainer } = await import('./remove');
  // Another tspod (or the helper itself) may be removing one at the same moment.
  for (const c of ended) await removeContainer(store, c, { force: true, volumes: true }).catch(() => undefined);
  return all.filter((c) => !ended.includes(c));
}
