// `create` (and the first half of `run`): find or pull the image, work out the container's
// configuration from the image and the options (docker's rules), and record it on disk.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TspodError } from '../errors';
import { limitsWarning } from '../cgroups';
import { parseLabels } from '../labels';
import { log } from '../log';
import { readImageConfig } from '../image/config';
import { findImage } from '../image/lookup';
import type { PullOptions } from '../image/pull';
import { availableNetworks } from '../network';
import { formatReference, parseReference } from '../reference';
import type { ImageRecord, Store } from '../store/store';
import { mergeEnv, readEnvFiles, resolveCommand, generateName, validName } from './command';
import { DEFAULT_CAPS, type MountSpec } from './helper-config';
import { cleanContainerPath, parseMount, parseNetwork, parseNetworkOptions, parsePublish, parseTmpfs, parseVolume, resolveCaps, type VolumeSpec } from './options';
import { containerDir, loadContainer, nameOwner, reserveName, saveConfig, saveState, type Container, type ContainerConfig } from './record';
import { anonymousVolumeName, skipCopyUp, volumePath } from './volumes';

export interface CreateOptions {
  image: string;
  args: string[];
  name?: string;
  entrypoint?: string;
  env: string[];
  envFiles: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  volumes: string[];
  tmpfs: string[];
  mounts: string[];
  readOnly: boolean;
  /** With readOnly: writable tmpfs on /run, /tmp and /var/tmp (podman's default). */
  readOnlyTmpfs?: boolean;
  network?: string;
  publish: string[];
  capAdd: string[];
  capDrop: string[];
  init: boolean;
  stopSignal?: string;
  stopTimeout?: number;
  tty: boolean;
  interactive: boolean;
  rm: boolean;
  userns?: string;
  labels: string[];
  restart?: string;
  pull?: 'missing' | 'always' | 'never' | 'newer';
  replace?: boolean;
  /** cgroup controllers that limits were asked for (--memory: memory, --cpus: cpu, --pids-limit: pids). */
  limits?: string[];
  /** The command line as given (for generate systemd --new). */
  createCommand: string[];
  cwd: string;
  hostEnv: NodeJS.ProcessEnv;
  registry: PullOptions;
}

const SIGNALS: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11, USR2: 12, PIPE: 13,
  ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24,
  XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, PWR: 30, SYS: 31,
};

/** SIGTERM, TERM, 15 -> SIGTERM; unknown -> error. */
export function normalizeSignal(s: string): string {
  const up = s.toUpperCase().replace(/^SIG/, '');
  if (SIGNALS[up]) return `SIG${up}`;
  const n = Number(s);
  if (Number.isInteger(n) && n > 0 && n < 65) {
    const name = Object.entries(SIGNALS).find(([, v]) => v === n)?.[0];
    return name ? `SIG${name}` : String(n);
  }
  throw new TspodError(`invalid signal: ${s}`);
}

export function signalNumber(s: string): number {
  const norm = normalizeSignal(s);
  return SIGNALS[norm.replace(/^SIG/, '')] ?? Number(norm);
}

async function resolveImage(store: Store, o: CreateOptions, progress?: PullOptions['progress']): Promise<{ image: ImageRecord; name: string }> {
  const local = o.pull === 'always' ? undefined : findImage(store.images(), o.image);
  if (local) return { image: local.image, name: local.name ?? o.image };
  if (o.pull === 'never') throw new TspodError(`${o.image}: image not known`);
  // The registry client (https, tls, zlib) loads only when an image must be pulled.
  const { pullImage } = await import('../image/pull');
  const { image, reference } = await pullImage(store, o.image, { ...o.registry, progress });
  return { image, name: formatReference(reference) };
}

/** Creates the container record (status created) and its directories. */
export async function createContainer(store: Store, o: CreateOptions, progress?: PullOptions['progress']): Promise<Container> {
  if (o.name !== undefined && !validName(o.name)) {
    throw new TspodError(`invalid container name "${o.name}": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`);
  }
  const { image, name: imageName } = await resolveImage(store, o, progress);
  const cfg = readImageConfig(store, image).config ?? {};
  const limits = limitsWarning(o.limits ?? []);
  if (limits) log.warn(limits);
  const command = resolveCommand(cfg, { entrypoint: o.entrypoint, args: o.args });

  const envFiles = readEnvFiles(o.envFiles, o.cwd, o.hostEnv);
  const id = crypto.randomBytes(32).toString('hex');
  const hostname = o.hostname ?? id.slice(0, 12);
  const extra = [`HOSTNAME=${hostname}`, 'container=tspod', ...(o.tty ? ['TERM=xterm'] : [])];
  const env = mergeEnv(cfg.Env, envFiles, o.env, o.hostEnv, extra);

  const volumes: VolumeSpec[] = [
    ...o.volumes.map((v) => parseVolume(v, o.cwd)),
    ...o.mounts.map((m) => parseMount(m, o.cwd)),
  ];
  const mounts: MountSpec[] = [];
  for (const v of volumes) {
    if (v.volume === undefined) {
      if (!fs.existsSync(v.mount.source)) throw new TspodError(`statfs ${v.mount.source}: no such file or directory`);
      mounts.push(v.mount);
    } else {
      const name = v.volume || anonymousVolumeName();
      const source = volumePath(store, name, true);
      if (v.nocopy) skipCopyUp(source);
      mounts.push({ ...v.mount, source });
    }
  }
  mounts.push(...o.tmpfs.map(parseTmpfs));
  const dests = new Set<string>();
  for (const m of mounts) {
    if (dests.has(m.destination)) throw new TspodError(`duplicate mount destination ${m.destination}`);
    dests.add(m.destination);
  }
  // The image's VOLUMEs that no mount of the user's covers: an anonymous volume each, which the
  // image's files there are copied into when the container first starts (docker's behaviour).
  for (const dir of Object.keys(cfg.Volumes ?? {})) {
    if (!dir.startsWith('/')) continue;
    const destination = cleanContainerPath(dir);
    if (destination === '/' || dests.has(destination)) continue;
    dests.add(destination);
    mounts.push({ type: 'bind', source: volumePath(store, anonymousVolumeName(), true), destination, options: ['rbind', 'rw'] });
  }

  const network = parseNetwork(o.network, availableNetworks(o.hostEnv));
  const networkOptions = parseNetworkOptions(o.network, network);
  const ports = o.publish.flatMap(parsePublish);
  if (ports.length && network !== 'pasta' && network !== 'slirp4netns') {
    throw new TspodError(`cannot publish ports with --network ${network}`);
  }
  const labels: Record<string, string> = { ...(cfg.Labels ?? {}), ...parseLabels(o.labels) };
  const stopSignal = normalizeSignal(o.stopSignal ?? cfg.StopSignal ?? 'SIGTERM');
  const userns = o.userns ?? '';
  if (userns && userns !== 'keep-id' && userns !== 'host' && userns !== 'auto' && !userns.startsWith('keep-id')) {
    throw new TspodError(`--userns "${userns}" is not supported: use keep-id`);
  }

  // No store lock: the name is reserved atomically (see reserveName) and the container's
  // directory appears with one rename.
  let name = o.name;
  if (name !== undefined) {
    if (!reserveName(store, name, id)) {
      const holder = nameOwner(store, name) ?? '';
      if (!o.replace) {
        throw new TspodError(
          `creating container storage: the container name "${name}" is already in use by ${holder}. You have to remove that container to be able to reuse that name: that name is already in use`,
        );
      }
      const old = loadContainer(store, holder);
      if (old) {
        const { removeContainer } = await import('./remove');
        await removeContainer(store, old, { force: true, volumes: true });
      }
      if (!reserveName(store, name, id)) throw new TspodError(`the container name "${name}" was taken again while replacing it`);
    }
  } else {
    do name = generateName((n) => nameOwner(store, n) !== undefined);
    while (!reserveName(store, name, id));
  }
  {
    const config: ContainerConfig = {
      id,
      name,
      image: image.id,
      imageName: imageName.includes('/') ? formatReference(parseReference(imageName)) : imageName,
      created: new Date().toISOString(),
      entrypoint: command.entrypoint,
      cmd: command.cmd,
      argv: command.argv,
      env,
      user: o.user ?? cfg.User ?? '',
      workdir: o.workdir ?? (cfg.WorkingDir || '/'),
      hostname,
      tty: o.tty,
      stdin: o.interactive,
      labels,
      stopSignal,
      stopTimeout: o.stopTimeout ?? 10,
      autoRemove: o.rm,
      readOnly: o.readOnly,
      ...(o.readOnly && o.readOnlyTmpfs !== false ? { readOnlyTmpfs: true } : {}),
      init: o.init,
      caps: resolveCaps(DEFAULT_CAPS, o.capAdd, o.capDrop),
      capAdd: o.capAdd,
      capDrop: o.capDrop,
      network,
      ...(networkOptions.length ? { networkOptions } : {}),
      ports,
      mounts,
      userns,
      restartPolicy: o.restart ?? '',
      createCommand: o.createCommand,
    };
    const dir = containerDir(store, id);
    // Everything is made under a temporary name and renamed into place: a half-made container
    // is never listed.
    const staging = store.newTempDir('ctr');
    // The upper directory is the root directory of the container's file system: 0755, or its
    // non-root users could not reach anything.
    for (const d of ['upper', 'work', 'merged', 'userdata']) fs.mkdirSync(path.join(staging, d), { mode: d === 'upper' ? 0o755 : 0o700 });
    saveConfig(staging, config);
    saveState(staging, { status: 'created' });
    fs.renameSync(staging, dir);
    return { config, state: { status: 'created' as const }, dir };
  }
}
