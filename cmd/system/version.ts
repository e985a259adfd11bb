import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base';

export class VersionCommand extends TspodCommand {
  static paths = [['version']];
  static usage = Command.Usage({ description: 'Display the tspod version information' });

  format = Option.String('-f,--format', { description: "Change the output format to JSON or a Go template" });

  async execute(): Promise<number> {
    const { versionInfo } = await import('../../core/info');
    const v = versionInfo();
    if (this.format === 'json' || this.format === '{{json .}}') {
      this.out(JSON.stringify({ Client: v }, null, 2) + '\n');
      return 0;
    }
    if (this.format) {
      const { renderTemplate } = await import('../../core/format');
      this.out(renderTemplate(this.format, { Client: v }) + '\n');
      return 0;
    }
    this.out(
      `Client:       tspod\nVersion:      ${v.Version}\nAPI Version:  ${v.APIVersion}\nNode Version: ${v.NodeVersion}\nBuilt:        ${v.BuiltTime}\nOS/Arch:      ${v.OsArch}\n`,
    );
    return 0;
  }
}
