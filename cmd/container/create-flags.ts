// The options `run` and `create` share, and their translation into CreateOptions.

import { Option } from 'clipanion';
import type { CreateOptions } from '../../core/container/create';
import { registryFlag, toRegistryOptions } from '../flags';

export const createFlags = {
  name: () => Option.String('--name', { description: 'Assign a name to the container' }),
  env: () => Option.Array('-e,--env', [], { description: 'Set environment variables in container' }),
  envFile: () => Option.Array('--env-file', [], { description: 'Read in a file of environment variables' }),
  workdir: () => Option.String('-w,--workdir', { description: 'Working directory inside the container' }),
  user: () => Option.String('-u,--user', { description: 'Username or UID (format: <name|uid>[:<group|gid>])' }),
  entrypoint: () => Option.String('--entrypoint', { description: 'Overwrite the default ENTRYPOINT of the image' }),
  volume: () => Option.Array('-v,--volume', [], { description: 'Bind mount a volume into the container' }),
  mount: () => Option.Array('--mount', [], { description: 'Attach a filesystem mount to the container' }),
  tmpfs: () => Option.Array('--tmpfs', [], { description: 'Mount a temporary filesystem (tmpfs) into a container' }),
  readOnly: () => Option.Boolean('--read-only', false, { description: "Make containers root filesystem read-only" }),
  readOnlyTmpfs: () => Option.Boolean('--read-only-tmpfs', true, { description: 'When running containers in read-only mode mount a read-write tmpfs on /run, /tmp and /var/tmp' }),
  hostname: () => Option.String('--hostname', { description: 'Set container hostname' }),
  network: () => Option.String('--network,--net', { description: 'Connect a container to a network (none, host, pasta[:OPTIONS,...], slirp4netns[:allow_host_loopback=true])' }),
  publish: () => Option.Array('-p,--publish', [], { description: "Publish a container's port, or a range of ports, to the host" }),
  capAdd: () => Option.Array('--cap-add', [], { description: 'Add capabilities to the container' }),
  capDrop: () => Option.Array('--cap-drop', [], { description: 'Drop capabilities from the container' }),
  init: () => Option.Boolean('--init', false, { description: 'Run an init binary inside the container that forwards signals and reaps processes' }),
  stopSignal: () => Option.String('--stop-signal', { description: 'Signal to stop a container. Default is SIGTERM' }),
  stopTimeout: () => Option.String('--stop-timeout', { description: 'Timeout (in seconds) that containers stopped by user command have to exit. If exceeded, the container will be forcibly stopped via SIGKILL. (default 10)' }),
  tty: () => Option.Boolean('-t,--tty', false, { description: 'Allocate a pseudo-TTY for container' }),
  interactive: () => Option.Boolean('-i,--interactive', false, { description: 'Keep STDIN open even if not attached' }),
  rm: () => Option.Boolean('--rm', false, { description: 'Remove container (and pod if created) after exit' }),
  userns: () => Option.String('--userns', { description: 'User namespace to use (keep-id)' }),
  label: () => Option.Array('-l,--label', [], { description: 'Set metadata on container' }),
  restart: () => Option.String('--restart', { description: 'Restart policy to apply when a container exits ("always"|"no"|"on-failure"|"unless-stopped")' }),
  pull: () => Option.String('--pull', { description: 'Pull image policy ("always"|"missing"|"never"|"newer") (default "missing")' }),
  replace: () => Option.Boolean('--replace', false, { description: 'If a container with the same name exists, replace it' }),
  platform: () => Option.String('--platform', { description: 'Specify the platform for selecting the image' }),
  quiet: () => Option.Boolean('-q,--quiet', false, { description: 'Suppress output information when pulling images' }),
  memory: () => Option.String('-m,--memory', { description: 'Memory limit (format: <number>[<unit>], where unit = b, k, m or g)' }),
  cpus: () => Option.String('--cpus', { description: 'Number of CPUs. The default is 0.000 which means no limit' }),
  pidsLimit: () => Option.String('--pids-limit', { description: 'Tune container pids limit (set -1 for unlimited)' }),
};

export interface CreateFlagValues {
  name?: string;
  env: string[];
  envFile: string[];
  workdir?: string;
  user?: string;
  entrypoint?: string;
  volume: string[];
  mount: string[];
  tmpfs: string[];
  readOnly: boolean;
  readOnlyTmpfs: boolean;
  memory?: string;
  cpus?: string;
  pidsLimit?: string;
  hostname?: string;
  network?: string;
  publish: string[];
  capAdd: string[];
  capDrop: string[];
  init: boolean;
  stopSignal?: string;
  stopTimeout?: string;
  tty: boolean;
  interactive: boolean;
  rm: boolean;
  userns?: string;
  label: string[];
  restart?: string;
  pull?: string;
  replace: boolean;
  platform?: string;
  tlsVerify?: boolean;
  authfile?: string;
  certDir?: string;
  creds?: string;
}

export const pullFlags = {
  tlsVerify: registryFlag.tlsVerify,
  authfile: registryFlag.authfile,
  certDir: registryFlag.certDir,
  creds: registryFlag.creds,
};

export async function toCreateOptions(
  f: CreateFlagValues,
  image: string,
  args: string[],
  ctx: { env: NodeJS.ProcessEnv; argv: string[] },
): Promise<CreateOptions> {
  const { TspodError } = await import('../../core/errors');
  const { platformFromOptions } = await import('../../core/registry/platform');
  let stopTimeout: number | undefined;
  if (f.stopTimeout !== undefined) {
    stopTimeout = Number(f.stopTimeout);
    if (!Number.isInteger(stopTimeout) || stopTimeout < 0) throw new TspodError(`invalid --stop-timeout "${f.stopTimeout}"`);
  }
  const pull = f.pull as CreateOptions['pull'];
  if (pull !== undefined && !['missing', 'always', 'never', 'newer'].includes(pull)) {
    throw new TspodError(`invalid --pull "${f.pull}": use always, missing, never or newer`);
  }
  if (f.restart !== undefined && !/^(no|always|unless-stopped|on-failure(:\d+)?)$/.test(f.restart)) {
    throw new TspodError(`invalid restart policy "${f.restart}": use no, always, on-failure[:N] or unless-stopped`);
  }
  return {
    image,
    args,
    name: f.name,
    entrypoint: f.entrypoint,
    env: f.env,
    envFiles: f.envFile,
    workdir: f.workdir,
    user: f.user,
    hostname: f.hostname,
    volumes: f.volume,
    tmpfs: f.tmpfs,
    mounts: f.mount,
    readOnly: f.readOnly,
    readOnlyTmpfs: f.readOnlyTmpfs,
    network: f.network,
    publish: f.publish,
    capAdd: f.capAdd,
    capDrop: f.capDrop,
    init: f.init,
    stopSignal: f.stopSignal,
    stopTimeout,
    tty: f.tty,
    interactive: f.interactive,
    rm: f.rm,
    userns: f.userns,
    labels: f.label,
    restart: f.restart,
    pull,
    replace: f.replace,
    limits: [...(f.memory ? ['memory'] : []), ...(f.cpus ? ['cpu'] : []), ...(f.pidsLimit ? ['pids'] : [])],
    createCommand: ctx.argv,
    cwd: process.cwd(),
    hostEnv: ctx.env,
    registry: { ...toRegistryOptions(f, ctx.env), platform: platformFromOptions({ platform: f.platform }) },
  };
}
