// Signals for a container's process. A process that runs as a subordinate uid cannot be
// signalled by the user directly; the monitor (which holds the process) is asked instead.

import { control } from './attach';
import { TspodError, errnoCode } from '../errors';
import type { Store } from '../store/store';
import { attachSocketPath } from './start';
import { loadContainer, type Container } from './record';
import { signalNumber } from './create';

function viaMonitor(c: Container, signum: number): Promise<void> {
  return control(attachSocketPath(c), `kill ${signum}`);
}

export async function killContainer(c: Container, signal: string): Promise<void> {
  const signum = signalNumber(signal);
  if (c.state.status !== 'running' && c.state.status !== 'stopping') {
    throw new TspodError(`can only kill running containers. ${c.config.id} is in state ${c.state.status}: container state improper`);
  }
  const pid = c.state.pid;
  if (pid) {
    try {
      process.kill(pid, signum);
      return;
    } catch (err) {
      if (errnoCode(err) === 'ESRCH') return;
      if (errnoCode(err) !== 'EPERM') throw err;
    }
  }
  await viaMonitor(c, signum);
}

/** Waits until the container is no longer running; true if it ended within the time. */
export async function waitForExit(store: Store, id: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  // A killed container is usually gone within tens of milliseconds: look often at first.
  for (let delay = 2, n = 0; ; delay = ++n < 25 ? 2 : Math.min(delay * 2, 100)) {
    const c = loadContainer(store, id);
    if (!c || (c.state.status !== 'running' && c.state.status !== 'stopping')) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, delay));
  }
}
