// `run`: create, then start in the foreground (waiting, and removing with --rm) or detached.

import type { PullProgress } from '../image/pull';
import type { Store } from '../store/store';
import { createContainer, type CreateOptions } from './create';
import { startAttached, startDetached } from './start';

export interface RunResult {
  id: string;
  exitCode: number;
}

export async function runContainer(store: Store, o: CreateOptions, opts: { detach: boolean; progress?: PullProgress }): Promise<RunResult> {
  const c = await createContainer(store, o, opts.progress);
  (opts.progress as { finish?: (ok: boolean) => void } | undefined)?.finish?.(true);
  if (opts.detach) {
    try {
      await startDetached(store, c);
    } catch (err) {
      if (o.rm) await (await import('./remove')).removeContainer(store, c, { force: true, volumes: true }).catch(() => undefined);
      throw err;
    }
    return { id: c.config.id, exitCode: 0 };
  }
  try {
    // This process becomes the helper: it records the end and removes a --rm container itself.
    return await startAttached(store, c);
  } catch (err) {
    // It never got as far as the container (a layer missing, the helper not executable).
    if (o.rm) await (await import('./remove')).removeContainer(store, c, { force: true, volumes: true }).catch(() => undefined);
    throw err;
  }
}
