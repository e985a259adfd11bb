// Volumes: ROOT/volumes/NAME/_data (what containers mount) and ROOT/volumes/NAME/volume.json
// (when and with which labels it was made). A volume appears with one rename of a directory made
// aside, and leaves with one rename out of the store, so other tspod processes never see half of
// one. Named volumes come from `volume create` or from first use (`-v NAME:/dir`); anonymous ones
// (`-v /dir`) are named anon-HEX and go with their container (`rm -v`, `--rm`).

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TspodError, errnoCode } from '../errors';
import { Timestamp } from '../format/time';
import type { Store } from '../store/store';
import { listContainers, type Container } from './record';

export interface Volume {
  name: string;
  /** ROOT/volumes/NAME */
  dir: string;
  /** What containers mount: ROOT/volumes/NAME/_data */
  mountpoint: string;
  createdAt: string;
  labels: Record<string, string>;
}

interface VolumeMeta {
  name: string;
  createdAt: string;
  labels: Record<string, string>;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

function volumesDir(store: Store): string {
  return path.join(store.root, 'volumes');
}

export function volumePath(store: Store, name: string, create: boolean): string {
  const dir = path.join(volumesDir(store), name, '_data');
  if (create && !fs.existsSync(dir)) makeVolume(store, name, {});
  return dir;
}

/** Makes the volume aside and renames it into place; false when one of that name exists. */
function makeVolume(store: Store, name: string, labels: Record<string, string>): boolean {
  const tmp = store.newTempDir('volume');
  fs.mkdirSync(path.join(tmp, '_data'), { mode: 0o755 });
  const meta: VolumeMeta = { name, createdAt: new Date().toISOString(), labels };
  fs.writeFileSync(path.join(tmp, 'volume.json'), JSON.stringify(meta) + '\n', { mode: 0o644 });
  // Until a container's first start has copied the image's files in (see userns-helper/copyup.c).
  fs.writeFileSync(path.join(tmp, COPYUP_MARKER), '', { mode: 0o644 });
  fs.chmodSync(tmp, 0o755);
  fs.mkdirSync(volumesDir(store), { recursive: true, mode: 0o755 });
  try {
    fs.renameSync(tmp, path.join(volumesDir(store), name));
    return true;
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (errnoCode(err) === 'EEXIST' || errnoCode(err) === 'ENOTEMPTY') return false;
    throw err;
  }
}

const COPYUP_MARKER = 'copyup';

const ANON_PREFIX = 'anon-';

/** The name of a new anonymous volume (`-v /dir`, an image's VOLUME). */
export function anonymousVolumeName(): string {
  return `${ANON_PREFIX}${crypto.randomBytes(16).toString('hex')}`;
}

/** The directories (ROOT/volumes/NAME) of the anonymous volumes among a container's mounts. */
export function anonymousVolumeDirs(store: Store, mounts: readonly { source: string }[]): string[] {
  return mounts
    .filter((m) => volumeOfSource(store, m.source)?.startsWith(ANON_PREFIX))
    .map((m) => path.dirname(m.source));
}

/** The volume a mount source is (ROOT/volumes/NAME/_data), if it is one of the store's. */
export function volumeOfSource(store: Store, source: string): string | undefined {
  const rel = path.relative(volumesDir(store), source).split(path.sep);
  return rel.length === 2 && rel[1] === '_data' && NAME.test(rel[0]) ? rel[0] : undefined;
}

/** True while a volume of the store (by its mount source) has had nothing copied in. */
export function copyUpPending(store: Store, source: string): boolean {
  return volumeOfSource(store, source) !== undefined && fs.existsSync(path.join(path.dirname(source), COPYUP_MARKER));
}

/** nocopy: the image's files are never copied into this volume. */
export function skipCopyUp(source: string): void {
  fs.rmSync(path.join(path.dirname(source), COPYUP_MARKER), { force: true });
}

/** `volume create [NAME]`: a new volume (a random 64-hex name without one). */
export function createVolume(store: Store, name: string | undefined, labels: Record<string, string> = {}): Volume {
  const n = name ?? crypto.randomBytes(32).toString('hex');
  if (!NAME.test(n)) throw new TspodError(`volume name "${n}" is invalid: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument`);
  if (!makeVolume(store, n, labels)) throw new TspodError(`volume with name ${n} already exists: volume already exists`);
  return loadVolume(store, n)!;
}

export function loadVolume(store: Store, name: string): Volume | undefined {
  if (!NAME.test(name)) return undefined;
  const dir = path.join(volumesDir(store), name);
  const mountpoint = path.join(dir, '_data');
  let st: fs.Stats;
  try {
    st = fs.statSync(mountpoint);
  } catch {
    return undefined;
  }
  let meta: Partial<VolumeMeta> = {};
  try {
    meta = JSON.parse(fs.readFileSync(path.join(dir, 'volume.json'), 'utf8')) as VolumeMeta;
  } catch {
    // A volume of an earlier tspod, without its record: the directory's own times.
  }
  return {
    name,
    dir,
    mountpoint,
    createdAt: meta.createdAt ?? (st.birthtimeMs > 0 ? st.birthtime : st.mtime).toISOString(),
    labels: meta.labels ?? {},
  };
}

/** Every volume, by name. */
export function listVolumes(store: Store): Volume[] {
  let names: string[];
  try {
    names = fs.readdirSync(volumesDir(store));
  } catch {
    return [];
  }
  return names
    .sort()
    .map((n) => loadVolume(store, n))
    .filter((v): v is Volume => v !== undefined);
}

/** The containers that mount a volume. */
export function volumeUsers(store: Store, v: Volume, containers: Container[] = listContainers(store)): Container[] {
  return containers.filter((c) => c.config.mounts.some((m) => m.source === v.mountpoint));
}

/**
 * `volume rm`: refuses a volume that containers use (exit 2, as podman), unless `force`, which
 * removes those containers first.
 */
export async function removeVolume(store: Store, v: Volume, opts: { force?: boolean; containers?: Container[] } = {}): Promise<void> {
  const users = volumeUsers(store, v, opts.containers);
  if (users.length && !opts.force) {
    throw new TspodError(`volume ${v.name} is being used by the following container(s): ${users.map((c) => c.config.id).join(', ')}: volume is being used`, { exitCode: 2 });
  }
  const { removeContainer, deleteTrees } = await import('./remove');
  for (const c of users) await removeContainer(store, c, { force: true });
  const aside = path.join(store.tmpDir, `${process.pid}-${crypto.randomBytes(4).toString('hex')}-rmvol`);
  try {
    fs.renameSync(v.dir, aside);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  await deleteTrees([aside]);
}

/** `volume prune`: every volume no container uses; returns their names. */
export async function pruneVolumes(store: Store, volumes = listVolumes(store)): Promise<string[]> {
  const containers = listContainers(store);
  const out: string[] = [];
  for (const v of volumes) {
    if (volumeUsers(store, v, containers).length) continue;
    await removeVolume(store, v, { containers });
    out.push(v.name);
  }
  return out;
}

/** Volumes no container uses (podman's `dangling`). */
export function unusedVolumes(store: Store): Volume[] {
  const containers = listContainers(store);
  return listVolumes(store).filter((v) => volumeUsers(store, v, containers).length === 0);
}

/** A volume as podman's `volume inspect` (and `volume ls --format`, `inspect --type volume`) shows it. */
export function inspectVolume(v: Volume) {
  return {
    Name: v.name,
    Driver: 'local',
    Mountpoint: v.mountpoint,
    CreatedAt: new Timestamp(v.createdAt),
    Labels: v.labels,
    Scope: 'local',
    Options: {},
    MountCount: 0,
    NeedsCopyUp: true,
    NeedsChown: true,
  };
}
