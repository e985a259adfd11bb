import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base';

export class UnshareCommand extends TspodCommand {
  static paths = [['unshare']];
  static synopsis = '[options] [COMMAND [ARG...]]';
  static usage = Command.Usage({
    description: 'Run a command in a modified user namespace',
    details: 'Runs a command (a shell by default) as root inside the user namespace of the store, where files owned by subordinate ids can be read and removed.',
    examples: [['A shell', '$0 unshare'], ['See the mapping', '$0 unshare cat /proc/self/uid_map']],
  });

  command = Option.Proxy();

  async execute(): Promise<number> {
    const { runUnshare } = await import('../../core/unshare');
    const store = await this.store();
    const cmd = this.command.length ? this.command : [this.context.env.SHELL || '/bin/sh'];
    return runUnshare(cmd, { env: this.context.env, storeRoot: store.root });
  }
}
