import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base';

export class ExecCommand extends TspodCommand {
  static paths = [['exec'], ['container', 'exec']];
  static synopsis = '[options] CONTAINER COMMAND [ARG...]';
  static usage = Command.Usage({
    description: 'Run a process in a running container',
    details:
      'Runs the command in the namespaces of the running container, as the container\'s user (or -u), in its working directory (or -w), with its environment and capabilities. The exit code is the command\'s own (126: it cannot be executed, 127: it was not found).',
    examples: [
      ['Show the container\'s OS release', '$0 exec web cat /etc/os-release'],
      ['A shell as user 1000 in /tmp', '$0 exec -it -u 1000 -w /tmp web sh'],
    ],
  });

  detach = Option.Boolean('-d,--detach', false, { description: 'Run the exec session in detached mode (backgrounded)' });
  env = Option.Array('-e,--env', [], { description: 'Set environment variables' });
  envFile = Option.Array('--env-file', [], { description: 'Read in a file of environment variables' });
  interactive = Option.Boolean('-i,--interactive', false, { description: 'Make STDIN available to the contained process' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  privileged = Option.Boolean('--privileged', false, { description: 'Give the process every capability of the container\'s user namespace' });
  tty = Option.Boolean('-t,--tty', false, { description: 'Allocate a pseudo-TTY' });
  user = Option.String('-u,--user', { description: 'Username or UID (format: <name|uid>[:<group|gid>])' });
  workdir = Option.String('-w,--workdir', { description: 'Working directory inside the container' });
  container = Option.String();
  args = Option.Proxy();

  async execute(): Promise<number> {
    const { requireContainer, listContainers } = await import('../../core/container/record');
    const { execInContainer } = await import('../../core/container/exec');
    const { TspodError } = await import('../../core/errors');
    const store = await this.store();
    let args = this.args;
    let c;
    if (this.latest) {
      // With --latest there is no container name: the first word is the command's.
      args = [this.container, ...args];
      c = [...listContainers(store)].sort((a, b) => b.config.created.localeCompare(a.config.created))[0];
      if (!c) throw new TspodError('no containers to act on');
    } else {
      c = requireContainer(store, this.container.replace(/^\//, ''));
    }
    const result = await execInContainer(c, {
      cmd: args,
      env: this.env,
      envFiles: this.envFile,
      user: this.user,
      workdir: this.workdir,
      tty: this.tty,
      interactive: this.interactive,
      detach: this.detach,
      privileged: this.privileged,
      hostEnv: this.context.env,
      cwd: process.cwd(),
    });
    if (result.sessionId) this.out(`${result.sessionId}\n`);
    return result.exitCode;
  }
}
