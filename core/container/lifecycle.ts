// stop, start, restart, kill, wait: the life of a container after create.

import * as fs from 'node:fs';
import { TspodError } from '../errors';
import type { Store } from '../store/store';
import { killContainer, waitForExit } from './signal';
import { loadContainer, monitorAlive, saveState, type Container } from './record';
import { startAttached, startDetached } from './start';

const isRunning = (c: Container) => c.state.status === 'running' || c.state.status === 'stopping';

/**
 * Sends the stop signal (--stop-signal, else the image's StopSignal, else SIGTERM), then
 * SIGKILL after `timeout` seconds. Stopping a container that is not running is not an error.
 */
export async function stopContainer(store: Store, c: Container, timeout?: number, awaitRemove = true): Promise<void> {
  if (!isRunning(c)) return;
  const secs = timeout ?? c.config.stopTimeout;
  await killContainer(c, c.config.stopSignal).catch((err) => {
    if (isRunning(loadContainer(store, c.config.id) ?? c)) throw err;
  });
  if (!(await waitForExit(store, c.config.id, secs * 1000))) {
    const now = loadContainer(store, c.config.id);
    if (now && isRunning(now)) await killContainer(now, 'SIGKILL');
    if (!(await waitForExit(store, c.config.id, 10_000))) {
      throw new TspodError(`container ${c.config.name} did not stop after SIGKILL`);
    }
  }
  if (c.config.autoRemove && awaitRemove) await awaitRemoval(store, c);
}

/**
 * A stopped --rm container is gone when stop returns, as with podman: its monitor removes it
 * right after the end; if the monitor is gone (or slow), tspod removes it itself.
 */
async function awaitRemoval(store: Store, c: Container): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
    // The monitor deletes the directory in place and ends when it is done.
    if (!fs.existsSync(c.dir)) return;
    if (!monitorAlive(c.state) || Date.now() >= deadline) {
      const now = loadContainer(store, c.config.id);
      const { removeContainer } = await import('./remove');
      if (now) await removeContainer(store, now, { force: true, volumes: true }).catch(() => undefined);
      return;
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}

export async function startContainer(store: Store, c: Container, opts: { attach?: boolean } = {}): Promise<number> {
  if (isRunning(c)) return 0;
  if (opts.attach) return startAttached(store, c);
  await startDetached(store, c);
  return 0;
}

export async function restartContainer(store: Store, c: Container, timeout?: number): Promise<void> {
  await stopContainer(store, c, timeout, false);
  const now = loadContainer(store, c.config.id);
  if (!now) throw new TspodError(`container ${c.config.name} disappeared while restarting`);
  await startDetached(store, { ...now, state: { ...now.state, restartCount: (now.state.restartCount ?? 0) + 1 } });
}

/** Waits until the container has ended and returns its exit code (a created one waits to be run). */
export async function waitContainer(store: Store, c: Container): Promise<number> {
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    const now = loadContainer(store, c.config.id);
    if (!now) throw new TspodError(`no container with name or ID "${c.config.name}" found: no such container`);
    if (now.state.status === 'exited' || now.state.status === 'stopped') {
      // Records the end the exit file told; an --rm container's monitor is removing it.
      if (!now.config.autoRemove) saveState(now.dir, now.state);
      return now.state.exitCode ?? 0;
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}

export { killContainer };
