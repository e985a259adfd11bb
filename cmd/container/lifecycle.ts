// stop, start, restart, kill, wait: one class per verb, each acting on several containers and
// saying which one failed, as podman's batch verbs do.

import { Command, Option, UsageError } from 'clipanion';
import { TspodCommand } from '../base';
import type { Container } from '../../core/container/record';
import type { Store } from '../../core/store/store';

/** Runs `fn` for each named container; prints what podman prints; returns the exit code. */
async function eachContainer(
  cmd: TspodCommand,
  inputs: string[],
  opts: { all?: boolean; latest?: boolean; ignore?: boolean; filter?: (c: Container) => boolean },
  fn: (store: Store, c: Container, input: string) => Promise<string | undefined>,
): Promise<number> {
  const { listContainers, findContainer } = await import('../../core/container/record');
  const { describe, TspodError } = await import('../../core/errors');
  const { removeEndedAutoRemove } = await import('../../core/container/autoremove');
  const store = await cmd.store();
  await removeEndedAutoRemove(store);
  const all = listContainers(store);
  let targets: string[] = inputs;
  if (opts.all) targets = all.filter(opts.filter ?? (() => true)).map((c) => c.config.id);
  else if (opts.latest) {
    const newest = [...all].sort((a, b) => b.config.created.localeCompare(a.config.created))[0];
    if (!newest) throw new TspodError('no containers to act on');
    targets = [newest.config.id];
  }
  if (targets.length === 0 && !opts.all) throw new UsageError('you must provide at least one container name or ID');
  let code = 0;
  for (const input of targets) {
    try {
      const c = findContainer(all, input);
      if (!c && opts.ignore) continue;
      if (!c) throw new TspodError(`no container with name or ID "${input}" found: no such container`);
      const line = await fn(store, c, input);
      if (line !== undefined) cmd.out(`${line}\n`);
    } catch (err) {
      cmd.err(`Error: ${describe(err)}\n`);
      code = err instanceof TspodError ? err.exitCode : 125;
    }
  }
  // A --rm container that stop, kill or wait saw end goes now, as podman's does.
  await removeEndedAutoRemove(store);
  return code;
}

function seconds(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`invalid argument "${v}" for "${flag}"`);
  return n;
}

export class StopCommand extends TspodCommand {
  static paths = [['stop'], ['container', 'stop']];
  static synopsis = '[options] CONTAINER [CONTAINER...]';
  static usage = Command.Usage({
    description: 'Stop one or more containers',
    details: 'Sends the stop signal (the container\'s --stop-signal, else the image\'s StopSignal, else SIGTERM), then SIGKILL after the timeout.',
    examples: [['Stop with a 5 second grace period', '$0 stop -t 5 web']],
  });
  all = Option.Boolean('-a,--all', false, { description: 'Stop all running containers' });
  ignore = Option.Boolean('-i,--ignore', false, { description: 'Ignore errors when a specified container is missing' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  time = Option.String('-t,--time', { description: 'Seconds to wait for stop before killing the container (default 10)' });
  containers = Option.Rest();

  async execute(): Promise<number> {
    const { stopContainer } = await import('../../core/container/lifecycle');
    const t = seconds(this.time, '--time');
    return eachContainer(this, this.containers, { all: this.all, latest: this.latest, ignore: this.ignore, filter: (c) => c.state.status === 'running' }, async (store, c, input) => {
      await stopContainer(store, c, t);
      return input;
    });
  }
}

export class StartCommand extends TspodCommand {
  static paths = [['start'], ['container', 'start']];
  static synopsis = '[options] CONTAINER [CONTAINER...]';
  static usage = Command.Usage({
    description: 'Start one or more containers',
    details: 'Starts one or more containers on their existing writable layer: files written before a stop are still there.',
  });
  attach = Option.Boolean('-a,--attach', false, { description: "Attach container's STDOUT and STDERR" });
  interactive = Option.Boolean('-i,--interactive', false, { description: 'Keep STDIN open even if not attached' });
  all = Option.Boolean('--all', false, { description: 'Start all containers regardless of their state or configuration' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  containers = Option.Rest();

  async execute(): Promise<number> {
    const { startContainer } = await import('../../core/container/lifecycle');
    if (this.attach && this.containers.length > 1) throw new UsageError('you cannot start and attach multiple containers at once');
    if (this.attach) {
      const { requireContainer } = await import('../../core/container/record');
      const { removeEndedAutoRemove } = await import('../../core/container/autoremove');
      const store = await this.store();
      const code = await startContainer(store, requireContainer(store, this.containers[0]), { attach: true });
      await removeEndedAutoRemove(store);
      return code;
    }
    return eachContainer(this, this.containers, { all: this.all, latest: this.latest }, async (store, c, input) => {
      await startContainer(store, c);
      return input;
    });
  }
}

export class RestartCommand extends TspodCommand {
  static paths = [['restart'], ['container', 'restart']];
  static synopsis = '[options] CONTAINER [CONTAINER...]';
  static usage = Command.Usage({ description: 'Restart one or more containers' });
  all = Option.Boolean('-a,--all', false, { description: 'Restart all non-running containers' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  running = Option.Boolean('--running', false, { description: 'Restart only running containers' });
  time = Option.String('-t,--time', { description: 'Seconds to wait for stop before killing the container (default 10)' });
  containers = Option.Rest();

  async execute(): Promise<number> {
    const { restartContainer } = await import('../../core/container/lifecycle');
    const t = seconds(this.time, '--time');
    return eachContainer(
      this,
      this.containers,
      { all: this.all, latest: this.latest, filter: (c) => !this.running || c.state.status === 'running' },
      async (store, c) => {
        await restartContainer(store, c, t);
        return c.config.id;
      },
    );
  }
}

export class KillCommand extends TspodCommand {
  static paths = [['kill'], ['container', 'kill']];
  static synopsis = '[options] CONTAINER [CONTAINER...]';
  static usage = Command.Usage({
    description: 'Kill one or more running containers with a specific signal',
    examples: [['Reload a daemon', '$0 kill -s HUP web']],
  });
  all = Option.Boolean('-a,--all', false, { description: 'Signal all running containers' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  signal = Option.String('-s,--signal', 'KILL', { description: 'Signal to send to the container (default "KILL")' });
  containers = Option.Rest();

  async execute(): Promise<number> {
    const { killContainer } = await import('../../core/container/lifecycle');
    return eachContainer(this, this.containers, { all: this.all, latest: this.latest, filter: (c) => c.state.status === 'running' }, async (_s, c, input) => {
      await killContainer(c, this.signal);
      return input;
    });
  }
}

export class WaitCommand extends TspodCommand {
  static paths = [['wait'], ['container', 'wait']];
  static synopsis = '[options] CONTAINER [CONTAINER...]';
  static usage = Command.Usage({ description: 'Block on one or more containers', details: 'Waits for each container to stop and prints its exit code.' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  condition = Option.Array('--condition', [], { description: 'Condition to wait on (stopped, exited)' });
  containers = Option.Rest();

  async execute(): Promise<number> {
    const { waitContainer } = await import('../../core/container/lifecycle');
    return eachContainer(this, this.containers, { latest: this.latest }, async (store, c) => String(await waitContainer(store, c)));
  }
}
