import { Command, Option, UsageError } from 'clipanion';
import { TspodCommand } from '../base';

export class RmCommand extends TspodCommand {
  static paths = [['rm'], ['container', 'rm'], ['container', 'remove']];
  static synopsis = '[options] CONTAINER [CONTAINER...]';
  static usage = Command.Usage({
    description: 'Remove one or more containers',
    details: 'Removes one or more containers from the host. The container name or ID can be used. Running containers need --force.',
    examples: [['Remove a container', '$0 rm job'], ['Stop and remove', '$0 rm -f web']],
  });

  all = Option.Boolean('-a,--all', false, { description: 'Remove all containers' });
  force = Option.Boolean('-f,--force', false, { description: 'Force removal of a running or unusable container' });
  ignore = Option.Boolean('-i,--ignore', false, { description: 'Ignore errors when a specified container is missing' });
  volumes = Option.Boolean('-v,--volumes', false, { description: 'Remove anonymous volumes associated with the container' });
  time = Option.String('-t,--time', { description: 'With --force: seconds to wait after the stop signal before killing (default: kill at once)' });
  containers = Option.Rest();

  async execute(): Promise<number> {
    if (!this.all && this.containers.length === 0) throw new UsageError('must specify at least one container');
    const { removeContainer } = await import('../../core/container/remove');
    const { listContainers, findContainer } = await import('../../core/container/record');
    const { describe, TspodError } = await import('../../core/errors');
    const timeout = this.time === undefined ? undefined : Number(this.time);
    if (timeout !== undefined && !(Number.isFinite(timeout) && timeout >= 0)) throw new UsageError(`invalid argument "${this.time}" for "--time"`);
    const store = await this.store();
    const all = listContainers(store);
    const targets = this.all ? all.map((c) => c.config.id) : this.containers;
    let exitCode = 0;
    for (const input of targets) {
      try {
        const c = findContainer(all, input);
        if (!c) {
          if (this.ignore) continue;
          this.err(`Error: no container with name or ID "${input}" found: no such container\n`);
          // podman rm: 1 when a container does not exist
          exitCode = exitCode || 1;
          continue;
        }
        await removeContainer(store, c, { force: this.force, volumes: this.volumes, timeout });
        this.out(`${input}\n`);
      } catch (err) {
        this.err(`Error: ${describe(err)}\n`);
        exitCode = err instanceof TspodError && err.exitCode === 2 ? 2 : 125;
      }
    }
    return exitCode;
  }
}

export class ContainerPruneCommand extends TspodCommand {
  static paths = [['container', 'prune']];
  static usage = Command.Usage({ description: 'Remove all non running containers' });

  force = Option.Boolean('-f,--force', false, { description: 'Do not prompt for confirmation' });
  filter = Option.Array('--filter', [], { description: 'Provide filter values' });

  async execute(): Promise<number> {
    const { pruneContainers } = await import('../../core/container/remove');
    if (!this.force) {
      const { confirm } = await import('../prompt');
      const ok = await confirm(this.context.stdin, this.context.stderr, 'WARNING! This will remove all non running containers.\nAre you sure you want to continue?');
      if (!ok) return 0;
    }
    for (const id of await pruneContainers(await this.store())) this.out(`${id}\n`);
    return 0;
  }
}
