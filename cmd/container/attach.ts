import { Command, Option, UsageError } from 'clipanion';
import { TspodCommand } from '../base';

export class AttachCommand extends TspodCommand {
  static paths = [['attach'], ['container', 'attach']];
  static synopsis = '[options] CONTAINER';
  static usage = Command.Usage({
    description: 'Attach to a running container',
    details:
      "Shows the running container's output (stdout and stderr) and, when it was started with -i, passes input to it, until it ends; the exit code is the container's. With a terminal, ctrl-p ctrl-q detaches and leaves it running.",
    examples: [['Follow a detached container', '$0 attach web']],
  });

  detachKeys = Option.String('--detach-keys', 'ctrl-p,ctrl-q', { description: 'Select the key sequence for detaching a container. Format is a single character [a-Z] or ctrl-<value> where <value> is one of: a-z, @, ^, [, , or _' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  noStdin = Option.Boolean('--no-stdin', false, { description: 'Do not attach STDIN. The default is false' });
  sigProxy = Option.Boolean('--sig-proxy', true, { description: 'Proxy received signals to the container process (non-TTY mode only)' });
  container = Option.String({ required: false });

  async execute(): Promise<number> {
    const { requireContainer, listContainers } = await import('../../core/container/record');
    const { attachContainer } = await import('../../core/container/attach');
    const { TspodError } = await import('../../core/errors');
    const store = await this.store();
    let c;
    if (this.latest) {
      c = [...listContainers(store)].sort((a, b) => b.config.created.localeCompare(a.config.created))[0];
      if (!c) throw new TspodError('no containers to act on');
    } else {
      if (!this.container) throw new UsageError('attach requires the name or ID of a container or the --latest flag');
      c = requireContainer(store, this.container);
    }
    return attachContainer(
      store,
      c,
      { noStdin: this.noStdin, detachKeys: this.detachKeys, sigProxy: this.sigProxy },
      { stdin: this.context.stdin as NodeJS.ReadStream, stdout: this.context.stdout as NodeJS.WriteStream, stderr: this.context.stderr },
    );
  }
}
