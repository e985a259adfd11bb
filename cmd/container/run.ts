import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base';
import { createFlags, pullFlags, toCreateOptions } from './create-flags';

/**
 * The options `run` and `create` share, bound once. Each verb's class adds its own paths, help
 * and execute().
 */
abstract class CreateOptionsCommand extends TspodCommand {
  name = createFlags.name();
  env = createFlags.env();
  envFile = createFlags.envFile();
  workdir = createFlags.workdir();
  user = createFlags.user();
  entrypoint = createFlags.entrypoint();
  volume = createFlags.volume();
  mount = createFlags.mount();
  tmpfs = createFlags.tmpfs();
  readOnly = createFlags.readOnly();
  readOnlyTmpfs = createFlags.readOnlyTmpfs();
  hostname = createFlags.hostname();
  network = createFlags.network();
  publish = createFlags.publish();
  capAdd = createFlags.capAdd();
  capDrop = createFlags.capDrop();
  init = createFlags.init();
  stopSignal = createFlags.stopSignal();
  stopTimeout = createFlags.stopTimeout();
  tty = createFlags.tty();
  interactive = createFlags.interactive();
  rm = createFlags.rm();
  userns = createFlags.userns();
  label = createFlags.label();
  restart = createFlags.restart();
  pull = createFlags.pull();
  replace = createFlags.replace();
  platform = createFlags.platform();
  quiet = createFlags.quiet();
  memory = createFlags.memory();
  cpus = createFlags.cpus();
  pidsLimit = createFlags.pidsLimit();
  tlsVerify = pullFlags.tlsVerify();
  authfile = pullFlags.authfile();
  certDir = pullFlags.certDir();
  creds = pullFlags.creds();
  image = Option.String();
  args = Option.Proxy();

  /** The options and the pull display, as both verbs need them. */
  protected async prepare() {
    const { pullProgressFor } = await import('../progress');
    const opts = await toCreateOptions(this, this.image, this.args, { env: this.context.env, argv: this.context.globals.argv });
    const progress = this.quiet ? undefined : await pullProgressFor(this.context.stderr as NodeJS.WriteStream, this.context.env);
    return { opts, progress };
  }
}

export class RunCommand extends CreateOptionsCommand {
  static paths = [['run'], ['container', 'run']];
  static synopsis = '[options] IMAGE [COMMAND [ARG...]]';
  static usage = Command.Usage({
    description: 'Run a command in a new container',
    details: 'Runs a process in a new container. The image is pulled when it is not in local storage.',
    examples: [
      ['Print a greeting', '$0 run --rm busybox echo hello'],
      ['A shell', '$0 run -it --rm busybox sh'],
      ['A detached web server', '$0 run -d --name web -p 8080:80 busybox httpd -f -p 80'],
    ],
  });

  detach = Option.Boolean('-d,--detach', false, { description: 'Run container in background and print container ID' });

  async execute(): Promise<number> {
    const { runContainer } = await import('../../core/container/run');
    const store = await this.store();
    const { opts, progress } = await this.prepare();
    const result = await runContainer(store, opts, { detach: this.detach, progress });
    if (this.detach) this.out(`${result.id}\n`);
    return result.exitCode;
  }
}

export class CreateCommand extends CreateOptionsCommand {
  static paths = [['create'], ['container', 'create']];
  static synopsis = '[options] IMAGE [COMMAND [ARG...]]';
  static usage = Command.Usage({
    description: 'Create but do not start a container',
    details: 'Creates a writable container layer over the image and prepares it to run the command; `start` runs it.',
    examples: [['Create a container', '$0 create --name c busybox echo hi']],
  });

  async execute(): Promise<number> {
    const { createContainer } = await import('../../core/container/create');
    const store = await this.store();
    const { opts, progress } = await this.prepare();
    const c = await createContainer(store, opts, progress);
    this.out(`${c.config.id}\n`);
    return 0;
  }
}
