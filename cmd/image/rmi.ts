import { Command, Option, UsageError } from 'clipanion';
import { TspodCommand } from '../base';

export class RmiCommand extends TspodCommand {
  static paths = [['rmi'], ['image', 'rm'], ['image', 'remove']];
  static synopsis = '[options] IMAGE [IMAGE...]';
  static usage = Command.Usage({
    description: 'Removes one or more images from local storage',
    details: 'Removes one or more images: a name untags, the last name or the ID deletes the image and the layers no other image uses.',
    examples: [['Remove a tag', '$0 rmi mybox:dev'], ['Remove an image and its containers', '$0 rmi -f busybox']],
  });

  all = Option.Boolean('-a,--all', false, { description: 'Remove all images' });
  force = Option.Boolean('-f,--force', false, { description: 'Force Removal of the image' });
  ignore = Option.Boolean('-i,--ignore', false, { description: 'Ignore errors if a specified image does not exist' });
  images = Option.Rest();

  async execute(): Promise<number> {
    if (!this.all && this.images.length === 0) throw new UsageError('image name or ID must be specified');
    if (this.all && this.images.length > 0) throw new UsageError('when using the --all switch, you may not pass any images names or IDs');
    const { removeImages, RMI_NOT_FOUND } = await import('../../core/image/remove');
    const { containerUsage } = await import('../../core/container/usage');
    const store = await this.store();
    const report = await removeImages(store, this.images, { force: this.force, all: this.all, containers: containerUsage(store) });
    for (const n of report.untagged) this.out(`Untagged: ${n}\n`);
    for (const id of report.deleted) this.out(`Deleted: ${id}\n`);
    const errors = report.errors.filter((e) => !(this.ignore && e.exitCode === RMI_NOT_FOUND));
    for (const e of errors) this.err(`Error: ${e.message}\n`);
    if (errors.length === 0) return 0;
    // podman: 2 when an image is in use, 1 when one was not found, 125 otherwise.
    return errors.some((e) => e.exitCode === 125) ? 125 : Math.max(...errors.map((e) => e.exitCode));
  }
}
