// From a container's recorded configuration to what the helper needs to run it.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../fsutil';
import { currentMapping, type IdMapping, type IdRange } from '../idmap';
import { hostsFile, networkArgv, resolvConf } from '../network';
import type { Store } from '../store/store';
import { MASKED_PATHS, READONLY_PATHS, type MountSpec, type RunConfig } from './helper-config';
import type { ContainerConfig } from './record';
import { anonymousVolumeDirs, copyUpPending } from './volumes';

/**
 * --userns=keep-id: the user's own uid and gid are the same numbers inside, as podman does. The
 * ids below it come from the subordinate range, those above from the rest of it.
 */
export function keepIdMapping(m: IdMapping, uid: number, gid: number): IdMapping {
  const shift = (ranges: IdRange[], own: number): IdRange[] => {
    if (m.single) return [{ container: own, host: own, size: 1 }];
    const sub = ranges.filter((r) => r.container > 0);
    const out: IdRange[] = [];
    // container ids 0..own-1 -> subordinate ids, own -> the user, own+1.. -> the rest
    let next = 0;
    let left = own;
    for (const r of sub) {
      let host = r.host;
      let size = r.size;
      if (left > 0) {
        const take = Math.min(left, size);
        out.push({ container: next, host, size: take });
        next += take;
        left -= take;
        host += take;
        size -= take;
        if (left === 0) {
          out.push({ container: own, host: ranges[0].host, size: 1 });
          next = own + 1;
        }
      }
      if (size > 0 && left === 0) {
        out.push({ container: next, host, size });
        next += size;
      }
    }
    if (left > 0) out.push({ container: own, host: ranges[0].host, size: 1 });
    return out;
  };
  return { uids: shift(m.uids, uid), gids: shift(m.gids, gid), single: m.single };
}

/**
 * fuse-overlayfs's id mapping for a container whose user namespace is not the one the layers were
 * unpacked in (--userns=keep-id): for each id the container should see (`container`), the id the
 * file has on disk as fuse-overlayfs, running inside the container's namespace, sees it (`host`).
 * Layers were written with `unpacked`; the container runs with `ns`.
 */
export function shiftMapping(unpacked: IdRange[], ns: IdRange[]): IdRange[] {
  const out: IdRange[] = [];
  for (const u of unpacked) {
    for (const n of ns) {
      const lo = Math.max(u.host, n.host);
      const hi = Math.min(u.host + u.size, n.host + n.size);
      if (lo < hi) out.push({ container: u.container + (lo - u.host), host: n.container + (lo - n.host), size: hi - lo });
    }
  }
  return out.sort((a, b) => a.container - b.container);
}

/** fuse-overlayfs reads each triple as ID-ON-DISK:ID-SHOWN:LENGTH. */
function fuseMappingOption(name: string, ranges: IdRange[]): string {
  return `${name}=${ranges.map((r) => `${r.host}:${r.container}:${r.size}`).join(':')}`;
}

export function containerMapping(config: ContainerConfig): IdMapping {
  const m = currentMapping();
  if (config.userns.startsWith('keep-id')) return keepIdMapping(m, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
  return m;
}

/** Writes the files the container gets bound on /etc/hosts, /etc/resolv.conf and /etc/hostname. */
export function writeUserdata(dir: string, config: ContainerConfig): MountSpec[] {
  const ud = path.join(dir, 'userdata');
  const files: Array<[string, string, string]> = [
    ['hosts', '/etc/hosts', hostsFile(config.hostname, config.name, config.network)],
    ['resolv.conf', '/etc/resolv.conf', resolvConf(config.network)],
    ['hostname', '/etc/hostname', `${config.hostname}\n`],
  ];
  const mounts: MountSpec[] = [];
  for (const [name, dest, content] of files) {
    const file = path.join(ud, name);
    if (!fs.existsSync(file)) writeFileAtomic(file, content, 0o644, false);
    // A mount the user gave for the same path wins.
    if (!config.mounts.some((m) => m.destination === dest)) mounts.push({ type: 'bind', source: file, destination: dest, options: ['bind', 'rw'] });
  }
  return mounts;
}

/** podman's --read-only-tmpfs: a read-only root still gets somewhere to write, unless a mount is there. */
function readOnlyTmpfs(config: ContainerConfig): MountSpec[] {
  if (!config.readOnlyTmpfs) return [];
  return ['/run', '/tmp', '/var/tmp']
    .filter((d) => !config.mounts.some((m) => m.destination === d))
    .map((d) => ({ type: 'tmpfs' as const, source: 'tmpfs', destination: d, options: ['rw', 'nosuid', 'nodev'] }));
}

export interface SpecOptions {
  detach?: boolean;
  /** tspod hands its own process over to the helper (execve): the helper records the end itself. */
  handover?: boolean;
  /** Keep stdin open (attached run with -i). */
  stdin?: boolean;
  tty?: boolean;
  attachSocket?: string;
}

/**
 * --rm when tspod is not there at the end (detached, or handed over): the helper removes the
 * container's directory, its anonymous volumes and its name itself.
 */
function autoRemove(store: Store, dir: string, config: ContainerConfig): Pick<RunConfig, 'rmPaths' | 'unlinks'> {
  if (!config.autoRemove) return {};
  return { rmPaths: [dir, ...anonymousVolumeDirs(store, config.mounts)], unlinks: [[path.join(store.root, 'names', config.name), config.id]] };
}

/** A volume that no start has filled yet gets the image's files first (the helper's copyup). */
function withCopyUp(store: Store, m: MountSpec): MountSpec {
  return m.type === 'bind' && copyUpPending(store, m.source) ? { ...m, options: [...m.options, 'copyup'] } : m;
}

export function buildRunConfig(store: Store, dir: string, config: ContainerConfig, layers: string[], opts: SpecOptions = {}): RunConfig {
  const mapping = containerMapping(config);
  const keepId = config.userns.startsWith('keep-id');
  // The layers were unpacked with the user's standard mapping: with another one, fuse-overlayfs
  // shifts their owners back so that root's files stay root's.
  const std = currentMapping();
  const fuseopt = keepId && !std.single
    ? `${fuseMappingOption('uidmapping', shiftMapping(std.uids, mapping.uids))},${fuseMappingOption('gidmapping', shiftMapping(std.gids, mapping.gids))}`
    : undefined;
  const user = config.userns.startsWith('keep-id') && !config.user ? `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}` : config.user;
  const ud = path.join(dir, 'userdata');
  return {
    id: config.id,
    lower: [...layers].reverse().map((l) => store.layerDiffPath(l)),
    upper: path.join(dir, 'upper'),
    work: path.join(dir, 'work'),
    merged: path.join(dir, 'merged'),
    overlay: fuseopt ? 'fuse' : (process.env.TSPOD_OVERLAY as RunConfig['overlay']) ?? 'auto',
    ...(fuseopt ? { fuseopt } : {}),
    readonly: config.readOnly,
    uidmap: mapping.uids,
    gidmap: mapping.gids,
    hostname: config.hostname,
    cwd: config.workdir,
    user,
    env: config.env,
    args: config.argv,
    caps: config.caps,
    noNewPrivs: true,
    mounts: [...writeUserdata(dir, config), ...config.mounts.map((m) => withCopyUp(store, m)), ...readOnlyTmpfs(config)],
    masked: MASKED_PATHS,
    readonlyPaths: READONLY_PATHS,
    net: config.network,
    netArgs: networkArgv(config.network, config.ports, config.networkOptions ?? []),
    tty: opts.tty ?? config.tty,
    stdin: opts.stdin ?? config.stdin,
    init: config.init,
    ...(opts.detach
      ? {
          detach: true,
          log: path.join(ud, 'ctr.log'),
          exitFile: path.join(ud, 'exit'),
          pidFile: path.join(ud, 'pid'),
          ...(opts.attachSocket ? { attach: opts.attachSocket } : {}),
          ...autoRemove(store, dir, config),
        }
      : {}),
    ...(opts.handover
      ? { exitFile: path.join(ud, 'exit'), pidFile: path.join(ud, 'pid'), errorPrefix: 'Error: ', ...autoRemove(store, dir, config) }
      : {}),
  } as RunConfig;
}
