import { Command, Option, UsageError } from 'clipanion';
import { TspodCommand } from '../base';

export class LogsCommand extends TspodCommand {
  static paths = [['logs'], ['container', 'logs']];
  static synopsis = '[options] CONTAINER [CONTAINER...]';
  static usage = Command.Usage({
    description: 'Fetch the logs of one or more containers',
    details: 'Prints what a container wrote to stdout (on stdout) and stderr (on stderr).',
    examples: [['Follow the last 10 lines with times', '$0 logs -f --tail 10 -t web'], ['The last 5 minutes', '$0 logs --since 5m web']],
  });
  follow = Option.Boolean('-f,--follow', false, { description: 'Follow log output' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  names = Option.Boolean('-n,--names', false, { description: 'Output the container name in the log' });
  since = Option.String('--since', { description: 'Show logs since TIMESTAMP' });
  until = Option.String('--until', { description: 'Show logs until TIMESTAMP' });
  tail = Option.String('--tail', { description: 'Output the specified number of LINES at the end of the logs (default -1: all)' });
  timestamps = Option.Boolean('-t,--timestamps', false, { description: 'Output the timestamps in the log' });
  containers = Option.Rest();

  async execute(): Promise<number> {
    const { containerLogs, parseTimeArg } = await import('../../core/container/logs');
    const { requireContainer, listContainers } = await import('../../core/container/record');
    const { removeEndedAutoRemove } = await import('../../core/container/autoremove');
    const store = await this.store();
    await removeEndedAutoRemove(store);
    let inputs = this.containers;
    if (this.latest) {
      const newest = listContainers(store).sort((a, b) => b.config.created.localeCompare(a.config.created))[0];
      inputs = newest ? [newest.config.id] : [];
    }
    if (inputs.length === 0) throw new UsageError('specify at least one container name or ID to log');
    const tail = this.tail === undefined ? undefined : Number(this.tail);
    if (tail !== undefined && !Number.isInteger(tail)) throw new UsageError(`invalid argument "${this.tail}" for "--tail"`);
    const opts = {
      follow: this.follow,
      tail: tail !== undefined && tail >= 0 ? tail : undefined,
      since: this.since ? parseTimeArg(this.since) : undefined,
      until: this.until ? parseTimeArg(this.until) : undefined,
      timestamps: this.timestamps,
    };
    const containers = inputs.map((i) => requireContainer(store, i));
    await Promise.all(
      containers.map((c) => {
        const prefix = this.names || containers.length > 1 ? `${c.config.id.slice(0, 12)} ` : '';
        return containerLogs(store, c, opts, {
          stdout: (t) => this.context.stdout.write(prefix + t),
          stderr: (t) => this.context.stderr.write(prefix + t),
        });
      }),
    );
    return 0;
  }
}
