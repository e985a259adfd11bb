import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base';

export class ImagesCommand extends TspodCommand {
  static paths = [['images'], ['image', 'ls'], ['image', 'list']];
  static synopsis = '[options] [IMAGE]';
  static usage = Command.Usage({
    description: 'List images in local storage',
    details: 'Lists images previously pulled to the system or created on the system.',
    examples: [
      ['Names and IDs', "$0 images --format '{{.Repository}}:{{.Tag}} {{.ID}}'"],
      ['Dangling images', '$0 images --filter dangling=true'],
    ],
  });

  all = Option.Boolean('-a,--all', false, { description: 'Show all images (default hides intermediate images)' });
  digests = Option.Boolean('--digests', false, { description: 'Show digests' });
  filter = Option.Array('-f,--filter', { description: "Filter output based on conditions provided (default [])" });
  format = Option.String('--format', { description: "Change the output format to JSON or a Go template" });
  history = Option.Boolean('--history', false, { description: 'Display the image name history' });
  noHeading = Option.Boolean('-n,--noheading', false, { description: 'Do not print column headings' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: 'Do not truncate output' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Display only image IDs' });
  sort = Option.String('--sort', 'created', { description: 'Sort by created, id, repository, size, tag (default "created")' });
  image = Option.String({ required: false });

  async execute(): Promise<number> {
    const { listImages } = await import('../../core/image/list');
    const { imageRows, imageJson } = await import('../../core/image/report');
    const { containerUsage } = await import('../../core/container/usage');
    const { renderList, imagesTableFormat, IMAGES_HEADERS, JSON_STYLES } = await import('../../core/format');
    const store = await this.store();
    const usage = containerUsage(store);
    const filters = [...(this.filter ?? []), ...(this.image ? [`reference=${this.image}`] : [])];
    const rows = listImages(store, {
      all: this.all,
      filters,
      sort: this.sort as 'created',
      containerCount: (id) => usage.usersOf(id).length,
    });
    if (this.quiet) {
      const seen = new Set<string>();
      for (const r of rows) {
        const id = this.noTrunc ? `sha256:${r.image.id}` : r.image.id.slice(0, 12);
        if (!seen.has(id)) this.out(`${id}\n`);
        seen.add(id);
      }
      return 0;
    }
    const templateRows = imageRows(rows, { noTrunc: this.noTrunc });
    this.out(
      renderList(templateRows, {
        format: this.format,
        defaultTable: imagesTableFormat({ digests: this.digests, history: this.history }),
        headers: IMAGES_HEADERS,
        noHeading: this.noHeading,
        name: 'images',
        jsonValue: imageJson(store, rows),
        jsonStyle: JSON_STYLES.images,
      }),
    );
    return 0;
  }
}
