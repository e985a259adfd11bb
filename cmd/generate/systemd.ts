import * as path from 'node:path';
import { Command, Option, UsageError } from 'clipanion';
import { TspodCommand } from '../base';

function seconds(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`invalid argument "${v}" for "${flag}": a number of seconds`);
  return Number(v);
}

export class GenerateSystemdCommand extends TspodCommand {
  static paths = [['generate', 'systemd']];
  static synopsis = '[options] CONTAINER';
  static usage = Command.Usage({
    description: 'Generate systemd units',
    details:
      'Writes a systemd user unit that starts and stops an existing container, or with --new creates it at each start and removes it after it stops. Put it in ~/.config/systemd/user/ and run `systemctl --user daemon-reload`.',
    examples: [
      ['A unit named after the container', '$0 generate systemd --name web'],
      ['A unit file that recreates the container', '$0 generate systemd --new --files --name web'],
    ],
  });

  name = Option.Boolean('-n,--name', false, { description: 'Use container/pod names instead of IDs' });
  new = Option.Boolean('--new', false, { description: 'Create a new container or pod instead of starting an existing one' });
  files = Option.Boolean('-f,--files', false, { description: 'Generate .service files instead of printing to stdout' });
  containerPrefix = Option.String('--container-prefix', { description: 'Systemd unit name prefix for containers (default "container")' });
  separator = Option.String('--separator', { description: 'Systemd unit name separator between name/id and prefix (default "-")' });
  restartPolicy = Option.String('--restart-policy', { description: 'Systemd restart-policy (default "on-failure", or the container\'s --restart)' });
  restartSec = Option.String('--restart-sec', { description: 'Configures the time to sleep before restarting a service (as configured with restart-policy)' });
  startTimeout = Option.String('--start-timeout', { description: 'Start timeout override' });
  stopTimeout = Option.String('-t,--stop-timeout,--time', { description: 'Stop timeout override (default: the container\'s)' });
  noHeader = Option.Boolean('--no-header', false, { description: 'Skip header generation' });
  format = Option.String('--format', { description: 'Print the created units in specified format (json)' });
  wants = Option.Array('--wants', [], { description: 'Add (weak) requirement dependencies to the generated unit file' });
  after = Option.Array('--after', [], { description: 'Add dependencies order to the generated unit file' });
  requires = Option.Array('--requires', [], { description: 'Similar to wants, but declares stronger requirement dependencies' });
  env = Option.Array('-e,--env', [], { description: 'Set environment variables to the systemd unit files' });
  container = Option.String();

  async execute(): Promise<number> {
    const { containerUnit } = await import('../../core/generate/systemd');
    const { requireContainer } = await import('../../core/container/record');
    const { defaultStoreRoot } = await import('../../core/paths');
    const { writeFileAtomic } = await import('../../core/fsutil');
    const { VERSION } = await import('../../core/version');
    const { selfCommand } = await import('../../core/self');
    const { describeCommand, valueFlagNames } = await import('../system/complete');
    const { RunCommand } = await import('../container/run');
    if (this.format !== undefined && this.format !== 'json') throw new UsageError(`unsupported format "${this.format}": use json`);
    for (const e of this.env) if (!/^[^=]+=/.test(e)) throw new UsageError(`invalid --env "${e}": use KEY=VALUE`);
    const store = await this.store();
    const c = requireContainer(store, this.container);
    const unit = containerUnit(
      {
        id: c.config.id,
        name: c.config.name,
        stopTimeout: c.config.stopTimeout,
        restartPolicy: c.config.restartPolicy,
        env: c.config.env,
        createCommand: c.config.createCommand,
      },
      {
        useName: this.name,
        new: this.new,
        containerPrefix: this.containerPrefix,
        separator: this.separator,
        restartPolicy: this.restartPolicy,
        restartSec: seconds(this.restartSec, '--restart-sec'),
        startTimeout: seconds(this.startTimeout, '--start-timeout'),
        stopTimeout: seconds(this.stopTimeout, '--stop-timeout'),
        noHeader: this.noHeader,
        wants: this.wants,
        after: this.after,
        requires: this.requires,
        env: this.env,
      },
      {
        executable: selfCommand(),
        storeRoot: store.root,
        storeIsDefault: store.root === path.resolve(defaultStoreRoot(this.context.env)),
        monitorPidFile: path.join(c.dir, 'userdata', 'conmon.pid'),
        version: VERSION,
        now: new Date(),
        runValueFlags: valueFlagNames(describeCommand(RunCommand)),
      },
    );
    if (this.files) {
      const file = path.join(process.cwd(), `${unit.serviceName}.service`);
      writeFileAtomic(file, unit.text, 0o644);
      if (this.format === 'json') this.out(JSON.stringify({ [unit.serviceName]: file }, null, 4) + '\n');
      else this.out(`${file}\n`);
      return 0;
    }
    if (this.format === 'json') this.out(JSON.stringify({ [unit.serviceName]: unit.text }, null, 4) + '\n');
    else this.out(unit.text);
    return 0;
  }
}
