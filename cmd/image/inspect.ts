import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base';

export class ImageInspectCommand extends TspodCommand {
  static paths = [['image', 'inspect']];
  static synopsis = '[options] IMAGE [IMAGE...]';
  static usage = Command.Usage({
    description: 'Display the configuration of an image',
    details: 'Displays the low-level information of an image identified by name or ID.',
    examples: [['The command of an image', "$0 image inspect --format '{{.Config.Cmd}}' busybox"]],
  });

  format = Option.String('-f,--format', { description: 'Format the output to a Go template or json' });
  images = Option.Rest({ required: 1 });

  async execute(): Promise<number> {
    const { inspectImages } = await import('../../core/image/inspect');
    const { renderList, JSON_STYLES } = await import('../../core/format');
    const store = await this.store();
    const { results, errors } = inspectImages(store, this.images);
    if (results.length > 0 || errors.length === 0) {
      this.out(renderList(results, { format: this.format, name: 'inspect', jsonStyle: JSON_STYLES.inspect }));
    }
    for (const e of errors) this.err(`Error: ${e}\n`);
    return errors.length ? 125 : 0;
  }
}
