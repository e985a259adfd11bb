// Containers on disk, under the store:
//   ROOT/containers/ID/container.json   what the container is (written once at create; renames aside)
//   ROOT/containers/ID/state.json       what tspod last recorded about its life
//   ROOT/containers/ID/upper, work      the writable layer (kept across stop and start)
//   ROOT/containers/ID/merged           mount point of the root file system (inside its namespace)
//   ROOT/containers/ID/userdata/        hosts, resolv.conf, hostname, ctr.log, exit, pid
// The live truth (is it running?) is derived from the monitor's files and processes, never taken
// from state.json alone: a monitor killed by SIGKILL or a reboot leaves an exited container.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { TspodError, errnoCode } from '../errors';
import { pidAlive, readJson, writeJsonAtomic } from '../fsutil';
import type { Store } from '../store/store';
import type { MountSpec } from './helper-config';

export interface PortMapping {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  range: number;
}

export interface ContainerConfig {
  id: string;
  name: string;
  /** Image ID (hex). */
  image: string;
  /** The image's name as the container was created from it (`localhost:5000/busybox:latest`). */
  imageName: string;
  created: string;
  entrypoint: string[];
  cmd: string[];
  /** entrypoint + cmd */
  argv: string[];
  env: string[];
  user: string;
  workdir: string;
  hostname: string;
  tty: boolean;
  stdin: boolean;
  labels: Record<string, string>;
  stopSignal: string;
  stopTimeout: number;
  autoRemove: boolean;
  readOnly: boolean;
  /** With readOnly: writable tmpfs on /run, /tmp and /var/tmp at start (--read-only-tmpfs, the default). */
  readOnlyTmpfs?: boolean;
  init: boolean;
  caps: string[];
  capAdd: string[];
  capDrop: string[];
  network: 'none' | 'host' | 'pasta' | 'slirp4netns';
  /** What followed the mode in --network (`pasta:-T,8080`): the network program's options. */
  networkOptions?: string[];
  ports: PortMapping[];
  mounts: MountSpec[];
  userns: string;
  restartPolicy: string;
  /** The `run`/`create` options as given, for `generate systemd --new`. */
  createCommand: string[];
}

export type Status = 'created' | 'running' | 'stopping' | 'exited' | 'stopped' | 'removing';

export interface ContainerState {
  status: Status;
  /** Host pid of the container's process while it runs. */
  pid?: number;
  /** Pid of the process that watches it (the helper's monitor, or the helper in the foreground). */
  monitorPid?: number;
  /** Start time of the monitor (/proc/PID/stat field 22), to tell it from a reused pid. */
  monitorStart?: string;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  restartCount?: number;
  error?: string;
}

/** What the monitor writes when the container ends. */
export interface ExitRecord {
  exitCode: number;
  signal?: number | null;
  finishedAt: string;
  startedAt?: string;
}

export interface Container {
  config: ContainerConfig;
  state: ContainerState;
  dir: string;
}

export function containerDir(store: Store, id: string): string {
  return path.join(store.containersDir, id);
}

export function userdataDir(store: Store, id: string): string {
  return path.join(containerDir(store, id), 'userdata');
}

/** /proc/PID/stat after the command name (which may hold spaces and parentheses). */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** The start time of a process as the kernel counts it, or undefined when there is none. */
export function processStart(pid: number): string | undefined {
  return procStat(pid)?.[19];
}

export function monitorAlive(state: ContainerState): boolean {
  if (!state.monitorPid || !pidAlive(state.monitorPid)) return false;
  const stat = procStat(state.monitorPid);
  // A killed monitor stays a zombie until its parent (init, as it is a daemon) reaps it: gone.
  if (stat && (stat[0] === 'Z' || stat[0] === 'X')) return false;
  return state.monitorStart === undefined || stat?.[19] === state.monitorStart;
}

function readFirstLine(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n')[0];
  } catch {
    return '';
  }
}

/** Reads the monitor's exit record, if the container has ended. */
export function readExit(dir: string): ExitRecord | undefined {
  return readJson<ExitRecord | undefined>(path.join(dir, 'userdata', 'exit'), undefined);
}

/** The state as it really is now: recorded state corrected by the monitor's files and processes. */
export function liveState(dir: string, recorded: ContainerState): ContainerState {
  if (recorded.status !== 'running' && recorded.status !== 'stopping') return recorded;
  const exit = readExit(dir);
  if (exit && (!recorded.startedAt || !exit.startedAt || exit.startedAt >= recorded.startedAt)) {
    return { ...recorded, status: 'exited', pid: undefined, exitCode: exit.exitCode, finishedAt: exit.finishedAt };
  }
  if (monitorAlive(recorded)) {
    // A foreground container handed over to the helper: its pid is in the helper's pid file.
    if (recorded.pid === undefined) {
      const pid = Number(readFirstLine(path.join(dir, 'userdata', 'pid')));
      if (Number.isInteger(pid) && pid > 0) return { ...recorded, pid };
    }
    return recorded;
  }
  // The monitor is gone and wrote nothing: the container cannot be running any more.
  return { ...recorded, status: 'exited', pid: undefined, exitCode: recorded.exitCode ?? 137, finishedAt: recorded.finishedAt ?? new Date().toISOString() };
}

export function loadContainer(store: Store, id: string): Container | undefined {
  const dir = containerDir(store, id);
  let config: ContainerConfig;
  try {
    config = JSON.parse(fs.readFileSync(path.join(dir, 'container.json'), 'utf8')) as ContainerConfig;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw new TspodError(`reading container ${id}: ${(err as Error).message}`);
  }
  const recorded = readJson<ContainerState>(path.join(dir, 'state.json'), { status: 'created' });
  return { config, state: liveState(dir, recorded), dir };
}

/** Every container of the store (those being created, without container.json yet, are skipped). */
export function listContainers(store: Store): Container[] {
  let ids: string[];
  try {
    ids = fs.readdirSync(store.containersDir);
  } catch {
    return [];
  }
  const out: Container[] = [];
  for (const id of ids) {
    if (!/^[a-f0-9]{64}$/.test(id)) continue;
    const c = loadContainer(store, id);
    if (c) out.push(c);
  }
  return out;
}

export function saveConfig(dir: string, config: ContainerConfig): void {
  writeJsonAtomic(path.join(dir, 'container.json'), config);
}

/** State changes are frequent and cheap to lose in a power cut: renamed into place, not fsynced. */
export function saveState(dir: string, state: ContainerState): void {
  writeJsonAtomic(path.join(dir, 'state.json'), state, 0o644, false);
}

// Names: ROOT/names/NAME is a symlink to the container's ID. symlink() fails when the name exists,
// so reserving a name is atomic between tspod processes without a lock. A link whose container
// is gone (a crash between reserving and creating) is free to take.

function namesDir(store: Store): string {
  return path.join(store.root, 'names');
}

/** Reserves `name` for `id`; false when another container has it. */
export function reserveName(store: Store, name: string, id: string): boolean {
  const link = path.join(namesDir(store), name);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.symlinkSync(id, link);
      return true;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') {
        fs.mkdirSync(namesDir(store), { recursive: true, mode: 0o700 });
        continue;
      }
      if (errnoCode(err) !== 'EEXIST') throw err;
      const owner = nameOwner(store, name);
      if (owner && fs.existsSync(containerDir(store, owner))) return false;
      releaseName(store, name, owner);
    }
  }
  return false;
}

export function nameOwner(store: Store, name: string): string | undefined {
  try {
    return fs.readlinkSync(path.join(namesDir(store), name));
  } catch {
    return undefined;
  }
}

/** Frees `name` if it still belongs to `id` (undefined: whoever has it). */
export function releaseName(store: Store, name: string, id: string | undefined): void {
  if (id !== undefined && nameOwner(store, name) !== id) return;
  fs.rmSync(path.join(namesDir(store), name), { force: true });
}

/** Finds a container by full ID, unique ID prefix, or name. */
export function findContainer(containers: Container[], input: string): Container | undefined {
  const byName = containers.find((c) => c.config.name === input);
  if (byName) return byName;
  const byId = containers.find((c) => c.config.id === input);
  if (byId) return byId;
  if (/^[a-f0-9]{1,63}$/.test(input)) {
    const matches = containers.filter((c) => c.config.id.startsWith(input));
    if (matches.length === 1) return matches[0];
    if (matches.length > 1) throw new TspodError(`more than one result for container "${input}": use a longer prefix`);
  }
  return undefined;
}

export function noSuchContainer(input: string): TspodError {
  return new TspodError(`no container with name or ID "${input}" found: no such container`);
}

export function requireContainer(store: Store, input: string): Container {
  const c = findContainer(listContainers(store), input);
  if (!c) throw noSuchContainer(input);
  return c;
}
