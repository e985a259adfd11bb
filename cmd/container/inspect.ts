import { Command, Option, UsageError } from 'clipanion';
import { TspodCommand } from '../base';

export class InspectCommand extends TspodCommand {
  static paths = [['inspect'], ['container', 'inspect']];
  static synopsis = '[options] {CONTAINER|IMAGE} [...]';
  static usage = Command.Usage({
    description: 'Display the configuration of object denoted by ID',
    details: 'Displays the low-level information on containers, images and volumes identified by name or ID.',
    examples: [["State and exit code", "$0 inspect --format '{{.State.Status}} {{.State.ExitCode}}' web"]],
  });
  format = Option.String('-f,--format', { description: "Format the output to a Go template or json" });
  type = Option.String('-t,--type', { description: 'Specify inspect-object type ("image", "container", "volume" or "all") (default "all")' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  size = Option.Boolean('-s,--size', false, { description: 'Display total file size' });
  names = Option.Rest();

  async execute(): Promise<number> {
    const { listContainers, findContainer } = await import('../../core/container/record');
    const { inspectContainer } = await import('../../core/container/inspect');
    const { inspectImage } = await import('../../core/image/inspect');
    const { findImage } = await import('../../core/image/lookup');
    const { inspectVolume, loadVolume } = await import('../../core/container/volumes');
    const { renderList, JSON_STYLES } = await import('../../core/format');
    const { removeEndedAutoRemove } = await import('../../core/container/autoremove');
    const store = await this.store();
    await removeEndedAutoRemove(store);
    const containerOnly = this.path[0] === 'container' || this.type === 'container';
    const type = containerOnly ? 'container' : this.type ?? 'all';
    if (!['all', 'container', 'image', 'volume'].includes(type)) throw new UsageError(`invalid type "${this.type}": use container, image, volume or all`);
    const containers = listContainers(store);
    let inputs = this.names;
    if (this.latest) {
      const newest = [...containers].sort((a, b) => b.config.created.localeCompare(a.config.created))[0];
      inputs = newest ? [newest.config.id] : [];
    }
    if (inputs.length === 0) throw new UsageError('no names or ids specified');
    const results: object[] = [];
    const errors: string[] = [];
    const images = store.images();
    for (const input of inputs) {
      const c = type === 'all' || type === 'container' ? findContainer(containers, input) : undefined;
      if (c) {
        results.push(inspectContainer(store, c));
        continue;
      }
      const i = type === 'all' || type === 'image' ? findImage(images, input) : undefined;
      if (i) {
        results.push(inspectImage(store, i.image));
        continue;
      }
      const v = type === 'all' || type === 'volume' ? loadVolume(store, input) : undefined;
      if (v) {
        results.push(inspectVolume(v));
        continue;
      }
      errors.push(type === 'container' ? `no such container ${input}` : `no such object: "${input}"`);
    }
    // podman prints what it found even when something was missing (`[]` when nothing was)
    this.out(renderList(results, { format: this.format, name: 'inspect', jsonStyle: JSON_STYLES.inspect }));
    for (const e of errors) this.err(`Error: ${e}\n`);
    return errors.length ? 125 : 0;
  }
}
