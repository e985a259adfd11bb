import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base';

export class TopCommand extends TspodCommand {
  static paths = [['top'], ['container', 'top']];
  static synopsis = '[options] CONTAINER [FORMAT-DESCRIPTORS|ARGS...]';
  static usage = Command.Usage({
    description: 'Display the running processes of a container',
    details:
      'Lists the processes of the container\'s pid namespace with pids and users as the container sees them. Columns are chosen with format descriptors (pid ppid user uid group gid ruser rgroup comm args etime time tty pcpu vsz rss nice pgid state hpid, or their %-codes), as words, comma lists, or ps style -eo LIST.',
    examples: [
      ['The default columns', '$0 top web'],
      ['Some columns', '$0 top web pid comm'],
      ['ps style', '$0 top web -eo user,pid,args'],
    ],
  });

  listDescriptors = Option.Boolean('--list-descriptors', false, { hidden: true });
  container = Option.String();
  args = Option.Proxy();

  async execute(): Promise<number> {
    const { containerTop, listDescriptors } = await import('../../core/container/top');
    if (this.listDescriptors) {
      this.out(listDescriptors().join('\n') + '\n');
      return 0;
    }
    const { requireContainer } = await import('../../core/container/record');
    const { tabulate } = await import('../../core/format/tabwriter');
    const store = await this.store();
    const table = containerTop(requireContainer(store, this.container.replace(/^\//, '')), this.args);
    this.out(tabulate(table.map((row) => row.join('\t') + '\n').join('')));
    return 0;
  }
}
