import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base';

/** podman prints info as YAML; this is the small subset of YAML that the info object needs. */
function toYaml(v: unknown, indent = ''): string {
  if (v === null || v === undefined) return 'null\n';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]\n';
    return '\n' + v.map((x) => `${indent}- ${toYaml(x, indent + '  ').trimStart()}`).join('');
  }
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    if (entries.length === 0) return '{}\n';
    // A nested block starts on the next line: no space after the colon (no trailing blanks).
    return '\n' + entries.map(([k, x]) => `${indent}${k}:${block(toYaml(x, indent + '  '))}`).join('');
  }
  if (typeof v === 'string') return (/^[\w./:@+-]*$/.test(v) && v !== '' ? v : JSON.stringify(v)) + '\n';
  return `${String(v)}\n`;
}

function block(value: string): string {
  return value.startsWith('\n') ? value : ` ${value}`;
}

// podman's templates see its Go struct fields, not the JSON keys: `{{.Store.GraphRoot}}`.
const GO_NAMES: Record<string, string> = {
  cpus: 'CPUs',
  os: 'OS',
  idMappings: 'IDMappings',
  uidmap: 'UIDMap',
  gidmap: 'GIDMap',
  container_id: 'ContainerID',
  host_id: 'HostID',
};

function goFields(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(goFields);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [GO_NAMES[k] ?? k[0].toUpperCase() + k.slice(1), goFields(x)]));
}

export class InfoCommand extends TspodCommand {
  static paths = [['info'], ['system', 'info']];
  static usage = Command.Usage({ description: 'Display tspod system information' });

  format = Option.String('-f,--format', { description: 'Change the output format to JSON or a Go template' });

  async execute(): Promise<number> {
    const { hostInfo } = await import('../../core/info');
    const { runtimeDir } = await import('../../core/paths');
    const store = await this.store();
    const info = hostInfo(store, this.context.globals.runroot ?? runtimeDir(this.context.env));
    if (this.format === 'json') {
      this.out(JSON.stringify(info, null, 2) + '\n');
    } else if (this.format) {
      const { renderTemplate } = await import('../../core/format');
      this.out(renderTemplate(this.format, goFields(info)) + '\n');
    } else {
      this.out(toYaml(info).replace(/^\n/, ''));
    }
    return 0;
  }
}
