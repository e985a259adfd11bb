import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base';

export class ImagePruneCommand extends TspodCommand {
  static paths = [['image', 'prune']];
  static synopsis = '[options]';
  static usage = Command.Usage({
    description: 'Remove unused images',
    details: 'Removes dangling images (images without a name) that no container uses; with --all, every image no container uses. Asks first unless --force.',
  });

  all = Option.Boolean('-a,--all', false, { description: 'Remove all images not in use by containers, not just dangling ones' });
  force = Option.Boolean('-f,--force', false, { description: 'Do not prompt for confirmation' });
  filter = Option.Array('--filter', { description: 'Provide filter values (e.g. \'label=<key>=<value>\')' });

  async execute(): Promise<number> {
    const { pruneImages } = await import('../../core/image/remove');
    const { containerUsage } = await import('../../core/container/usage');
    if (!this.force) {
      const { confirm } = await import('../prompt');
      const what = this.all ? 'all images without at least one container associated with them' : 'all dangling images';
      if (!(await confirm(this.context.stdin, this.context.stderr, `WARNING! This command removes ${what}.\nAre you sure you want to continue?`))) return 0;
    }
    const store = await this.store();
    const removed = await pruneImages(store, { all: this.all, containers: containerUsage(store) });
    for (const id of removed) this.out(`${id}\n`);
    return 0;
  }
}
