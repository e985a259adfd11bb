import { Command, Option, UsageError } from 'clipanion';
import { TspodCommand } from '../base';
import type { Volume } from '../../core/container/volumes';

export class VolumeCreateCommand extends TspodCommand {
  static paths = [['volume', 'create']];
  static synopsis = '[options] [NAME]';
  static usage = Command.Usage({
    description: 'Create a new volume',
    details: 'Creates an empty volume for containers to mount (`-v NAME:/dir`); without a name, a random one. Prints the name.',
    examples: [['A named volume', '$0 volume create data'], ['Mount it', '$0 run -v data:/var/lib/data IMAGE']],
  });

  driver = Option.String('-d,--driver', 'local', { description: 'Specify volume driver name (default "local")' });
  label = Option.Array('-l,--label', [], { description: 'Set metadata for a volume (e.g., --label mykey=value)' });
  opt = Option.Array('-o,--opt', [], { description: 'Set driver specific options (default [])' });
  ignore = Option.Boolean('--ignore', false, { description: "Don't fail if volume already exists" });
  name = Option.String({ required: false });

  async execute(): Promise<number> {
    const { TspodError } = await import('../../core/errors');
    if (this.driver !== 'local') throw new TspodError(`volume driver "${this.driver}" is not supported: tspod has the local driver only`);
    if (this.opt.length) throw new TspodError(`volume options are not supported by the local driver of tspod: ${this.opt.join(', ')}`);
    const { createVolume, loadVolume } = await import('../../core/container/volumes');
    const { parseLabels } = await import('../../core/labels');
    const store = await this.store();
    if (this.ignore && this.name !== undefined && loadVolume(store, this.name)) {
      this.out(`${this.name}\n`);
      return 0;
    }
    const unnamed = this.label.find((l) => l === '' || l.startsWith('='));
    if (unnamed !== undefined) throw new UsageError(`invalid label "${unnamed}": a label needs a name`);
    this.out(`${createVolume(store, this.name, parseLabels(this.label)).name}\n`);
    return 0;
  }
}

export class VolumeLsCommand extends TspodCommand {
  static paths = [['volume', 'ls'], ['volume', 'list']];
  static synopsis = '[options]';
  static usage = Command.Usage({
    description: 'List volumes',
    details: 'Lists the volumes of the store: named ones, and the anonymous ones of containers (`-v /dir`).',
    examples: [['Names only', '$0 volume ls -q'], ['Unused volumes', '$0 volume ls --filter dangling=true']],
  });

  filter = Option.Array('-f,--filter', [], { description: 'Filter volume output (name=, label=, dangling=, driver=)' });
  format = Option.String('--format', { description: 'Format volume output using Go template' });
  noHeading = Option.Boolean('-n,--noheading', false, { description: 'Do not print headers' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Print volume output in quiet mode' });

  async execute(): Promise<number> {
    const { inspectVolume, listVolumes, unusedVolumes } = await import('../../core/container/volumes');
    const { labelFilter } = await import('../../core/labels');
    const { renderList, JSON_STYLES } = await import('../../core/format');
    const { TspodError } = await import('../../core/errors');
    const store = await this.store();
    let volumes = listVolumes(store);
    for (const f of this.filter) {
      const eq = f.indexOf('=');
      const key = eq < 0 ? f : f.slice(0, eq);
      const value = eq < 0 ? '' : f.slice(eq + 1);
      if (key === 'name') volumes = volumes.filter((v) => v.name.includes(value));
      else if (key === 'driver') volumes = volumes.filter(() => value === 'local');
      else if (key === 'label') {
        const matches = labelFilter(value);
        volumes = volumes.filter((v) => matches(v.labels));
      }
      else if (key === 'dangling') {
        if (value !== 'true' && value !== 'false') throw new TspodError(`invalid dangling filter value "${value}"`);
        const unused = new Set(unusedVolumes(store).map((v) => v.name));
        volumes = volumes.filter((v) => unused.has(v.name) === (value === 'true'));
      } else throw new TspodError(`invalid filter "${key}"`);
    }
    if (this.quiet) {
      for (const v of volumes) this.out(`${v.name}\n`);
      return 0;
    }
    const rows = volumes.map(inspectVolume);
    this.out(
      renderList(rows, {
        format: this.format,
        defaultTable: '{{.Driver}}\t{{.Name}}',
        headers: { Name: 'VOLUME NAME' },
        noHeading: this.noHeading,
        name: 'volume',
        jsonStyle: JSON_STYLES.images,
      }),
    );
    return 0;
  }
}

export class VolumeInspectCommand extends TspodCommand {
  static paths = [['volume', 'inspect']];
  static synopsis = '[options] VOLUME [VOLUME...]';
  static usage = Command.Usage({
    description: 'Display detailed information on one or more volumes',
    details: 'Displays the configuration of volumes: name, mount point, creation time, labels.',
    examples: [['Where its files are', "$0 volume inspect --format '{{.Mountpoint}}' data"]],
  });

  all = Option.Boolean('-a,--all', false, { description: 'Inspect all volumes' });
  format = Option.String('-f,--format', { description: 'Format volume output using Go template' });
  volumes = Option.Rest();

  async execute(): Promise<number> {
    const { inspectVolume, listVolumes, loadVolume } = await import('../../core/container/volumes');
    const { renderList, JSON_STYLES } = await import('../../core/format');
    if (!this.all && this.volumes.length === 0) throw new UsageError('provide one or more volume names or use --all');
    const store = await this.store();
    const found = this.all ? listVolumes(store) : this.volumes.map((n) => loadVolume(store, n));
    const missing = this.all ? [] : this.volumes.filter((_, i) => !found[i]);
    const rows = found.filter((v): v is Volume => v !== undefined).map(inspectVolume);
    if (rows.length > 0 || missing.length === 0) this.out(renderList(rows, { format: this.format, name: 'volume', jsonStyle: JSON_STYLES.inspect }));
    for (const n of missing) this.err(`Error: no such volume ${n}\n`);
    return missing.length ? 125 : 0;
  }
}

export class VolumeRmCommand extends TspodCommand {
  static paths = [['volume', 'rm'], ['volume', 'remove']];
  static synopsis = '[options] VOLUME [VOLUME...]';
  static usage = Command.Usage({
    description: 'Remove one or more volumes',
    details: 'Removes volumes and their files. A volume that a container uses is kept unless --force, which removes that container too.',
    examples: [['Remove a volume', '$0 volume rm data']],
  });

  all = Option.Boolean('-a,--all', false, { description: 'Remove all volumes' });
  force = Option.Boolean('-f,--force', false, { description: 'Remove a volume by force, even if it is being used by a container' });
  volumes = Option.Rest();

  async execute(): Promise<number> {
    if (!this.all && this.volumes.length === 0) throw new UsageError('choose either one or more volumes or all');
    const { listVolumes, loadVolume, removeVolume } = await import('../../core/container/volumes');
    const { describe, TspodError } = await import('../../core/errors');
    const store = await this.store();
    const names = this.all ? listVolumes(store).map((v) => v.name) : this.volumes;
    let exitCode = 0;
    for (const name of names) {
      const v = loadVolume(store, name);
      if (!v) {
        this.err(`Error: no volume with name "${name}" found: no such volume\n`);
        // podman volume rm: 1 when a volume does not exist
        exitCode = exitCode || 1;
        continue;
      }
      try {
        await removeVolume(store, v, { force: this.force });
        this.out(`${name}\n`);
      } catch (err) {
        this.err(`Error: ${describe(err)}\n`);
        exitCode = err instanceof TspodError && err.exitCode === 2 ? 2 : 125;
      }
    }
    return exitCode;
  }
}

export class VolumePruneCommand extends TspodCommand {
  static paths = [['volume', 'prune']];
  static synopsis = '[options]';
  static usage = Command.Usage({ description: 'Remove all unused volumes', details: 'Removes every volume that no container uses, and prints their names.' });

  force = Option.Boolean('-f,--force', false, { description: 'Do not prompt for confirmation' });
  filter = Option.Array('--filter', [], { description: 'Provide filter values (e.g. \'label=<key>=<value>\')' });

  async execute(): Promise<number> {
    const { pruneVolumes, unusedVolumes } = await import('../../core/container/volumes');
    const { labelFilter } = await import('../../core/labels');
    const { TspodError } = await import('../../core/errors');
    const store = await this.store();
    let volumes = unusedVolumes(store);
    for (const f of this.filter) {
      if (!/^label=[^=]/.test(f)) throw new TspodError(`invalid filter "${f}": volume prune takes label=KEY[=VALUE]`);
      const matches = labelFilter(f.slice('label='.length));
      volumes = volumes.filter((v) => matches(v.labels));
    }
    if (!this.force) {
      const { confirm } = await import('../prompt');
      const list = volumes.map((v) => `${v.name}\n`).join('');
      const ok = await confirm(
        this.context.stdin,
        this.context.stderr,
        `WARNING! This will remove all volumes not used by at least one container. The following volumes will be removed:\n${list}Are you sure you want to continue?`,
      );
      if (!ok) return 0;
    }
    for (const name of await pruneVolumes(store, volumes)) this.out(`${name}\n`);
    return 0;
  }
}
