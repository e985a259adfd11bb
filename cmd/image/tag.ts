import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base';

export class TagCommand extends TspodCommand {
  static paths = [['tag'], ['image', 'tag']];
  static synopsis = 'IMAGE TARGET_NAME [TARGET_NAME...]';
  static usage = Command.Usage({
    description: 'Add an additional name to a local image',
    details: 'Adds one or more additional names to locally-stored image. Names without a registry are put under localhost/.',
    examples: [['Give busybox a second name', '$0 tag busybox mybox:dev']],
  });

  image = Option.String({ required: true });
  targets = Option.Rest({ required: 1 });

  async execute(): Promise<number> {
    const { tagImage } = await import('../../core/image/tag');
    await tagImage(await this.store(), this.image, this.targets);
    return 0;
  }
}

export class UntagCommand extends TspodCommand {
  static paths = [['untag'], ['image', 'untag']];
  static synopsis = 'IMAGE [IMAGE...]';
  static usage = Command.Usage({
    description: 'Remove a name from a local image',
    details: 'Removes one or more names from a locally-stored image; without names, all of them.',
  });

  image = Option.String({ required: true });
  names = Option.Rest();

  async execute(): Promise<number> {
    const { untagImage } = await import('../../core/image/tag');
    await untagImage(await this.store(), this.image, this.names);
    return 0;
  }
}
