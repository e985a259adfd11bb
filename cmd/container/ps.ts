import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base';

export class PsCommand extends TspodCommand {
  static paths = [['ps'], ['container', 'ls'], ['container', 'list'], ['container', 'ps']];
  static synopsis = '[options]';
  static usage = Command.Usage({
    description: 'List containers',
    details: 'Prints out information about the containers',
    examples: [['All containers', '$0 ps -a'], ['Exited ones named job', '$0 ps --filter status=exited --filter name=job']],
  });

  all = Option.Boolean('-a,--all', false, { description: 'Show all the containers, default is only running containers' });
  filter = Option.Array('-f,--filter', [], { description: 'Filter output based on conditions given' });
  format = Option.String('--format', { description: 'Pretty-print containers to JSON or using a Go template' });
  last = Option.String('-n,--last', { description: 'Print the n last created containers (all states)' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  noHeading = Option.Boolean('--noheading', false, { description: 'Do not print headers' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: 'Display the extended information' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Print the numeric IDs of the containers only' });
  size = Option.Boolean('-s,--size', false, { description: 'Display the total file sizes' });
  sort = Option.String('--sort', 'created', { description: 'Sort output by: command, created, id, image, names, runningfor, size, status' });

  async execute(): Promise<number> {
    const { psContainers, psRows, psJson } = await import('../../core/container/list');
    const { renderList, psTableFormat, PS_HEADERS, JSON_STYLES } = await import('../../core/format');
    const { removeEndedAutoRemove } = await import('../../core/container/autoremove');
    const store = await this.store();
    const remaining = await removeEndedAutoRemove(store);
    const last = this.last === undefined ? undefined : Number(this.last);
    const list = psContainers(
      store,
      { all: this.all || last !== undefined || this.latest, filters: this.filter, last, latest: this.latest, sort: this.sort },
      remaining,
    );
    if (this.quiet) {
      for (const c of list) this.out(`${this.noTrunc ? c.config.id : c.config.id.slice(0, 12)}\n`);
      return 0;
    }
    // podman accepts {{.Namespaces.X}} for the namespace columns
    const format = this.format?.replace(/\.Namespaces\./g, '.');
    this.out(
      renderList(psRows(list, { noTrunc: this.noTrunc }), {
        format,
        defaultTable: psTableFormat({ size: this.size }),
        headers: PS_HEADERS,
        noHeading: this.noHeading,
        name: 'ps',
        jsonValue: psJson(list),
        jsonStyle: JSON_STYLES.ps,
      }),
    );
    return 0;
  }
}
