import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base';

export class CpCommand extends TspodCommand {
  static paths = [['cp'], ['container', 'cp']];
  static synopsis = '[options] [CONTAINER:]SRC_PATH [CONTAINER:]DEST_PATH';
  static usage = Command.Usage({
    description: 'Copy files/folders between a container and the local filesystem',
    details:
      'Copies SRC_PATH to DEST_PATH, from the container to the host, the host to the container, or between containers, running or stopped. A directory is copied recursively, into DEST_PATH when that is an existing directory (its contents with SRC_PATH/.), as DEST_PATH otherwise. "-" streams a tar archive from stdin or to stdout. Modes and modification times are kept; files copied into a container belong to its root user unless --archive keeps their owners. Paths inside the container are resolved inside its root file system: its symlinks never lead outside it.',
    examples: [
      ['A file into a container', '$0 cp ./index.html web:/var/www/'],
      ['A file out of it', '$0 cp web:/etc/hostname .'],
      ['A directory as a tar archive', '$0 cp web:/etc - > etc.tar'],
    ],
  });

  archive = Option.Boolean('-a,--archive', false, { description: 'Keep the uid/gid of the files copied into a container (default: its root user)' });
  src = Option.String();
  dst = Option.String();

  async execute(): Promise<number> {
    const { copyFiles } = await import('../../core/container/copy');
    const { log } = await import('../../core/log');
    const store = await this.store();
    await copyFiles(store, this.src, this.dst, {
      archive: this.archive,
      cwd: process.cwd(),
      stdin: this.context.stdin,
      stdout: this.context.stdout,
      warn: (message) => log.warnOnce(message, message),
    });
    return 0;
  }
}
