// Starting a container through `tspod-helper run`: in the foreground (tspod waits, passes
// signals on, and records the exit), or detached (the helper's monitor stays behind in place of
// a daemon and records the exit itself).

import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TspodError } from '../errors';
import { helperPath } from '../helper';
import { log } from '../log';
import { mkdirp, writeFileAtomic } from '../fsutil';
import { runtimeDir } from '../paths';
import type { Store } from '../store/store';
import { encodeRunConfig } from './helper-config';
import { processStart, readExit, saveState, type Container, type ContainerState } from './record';
import { buildRunConfig } from './spec';

export interface Status {
  pid?: number;
  exit?: number;
  signal?: number;
  error?: string;
  exitCode?: number;
}

function imageLayers(store: Store, c: Container): string[] {
  const image = store.images().find((i) => i.id === c.config.image);
  if (!image) throw new TspodError(`image ${c.config.image.slice(0, 12)} of container ${c.config.name} is not in the store any more`);
  for (const l of image.layers) {
    if (!store.hasLayer(l)) throw new TspodError(`layer ${l} of image ${image.id.slice(0, 12)} is missing from the store: pull the image again`);
  }
  return image.layers;
}

function clearExit(dir: string): void {
  fs.rmSync(path.join(dir, 'userdata', 'exit'), { force: true });
}

/** The JSON lines a helper wrote on its status pipe (userns-helper/PROTOCOL.md). */
export function parseStatus(text: string): Status[] {
  const out: Status[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as Status);
    } catch {
      log.debug(`helper status: ${line}`);
    }
  }
  return out;
}

/** Signals tspod passes on to a helper it waits for in the foreground (exec). */
export const FORWARD = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;

function flush(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    if (!(stream as NodeJS.WriteStream).writableLength) return resolve();
    stream.write('', () => resolve());
  });
}

/**
 * Runs the container in the foreground by handing this very process over to the helper
 * (execve): nothing of Node stays in memory while the container runs, the helper has tspod's
 * pid, stdio and signals, records the end (exit and pid files, as the monitor does), removes
 * the container for --rm, and its exit status is the container's. Never returns.
 */
async function handOver(store: Store, c: Container): Promise<never> {
  const layers = imageLayers(store, c);
  const spec = buildRunConfig(store, c.dir, c.config, layers, { handover: true });
  clearExit(c.dir);
  const file = path.join(c.dir, 'userdata', 'run.conf');
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, encodeRunConfig(spec), { mode: 0o600, flag: 'wx' });
  const helper = helperPath();
  saveState(c.dir, { status: 'running', monitorPid: process.pid, monitorStart: processStart(process.pid), startedAt: new Date().toISOString() });
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  (process as unknown as { execve(file: string, args: string[], env: NodeJS.ProcessEnv): void }).execve(helper, [helper, 'run', '--config', file], process.env);
  throw new TspodError(`handing over to ${helper} failed`);
}

/**
 * Runs the container in the foreground, with tspod's own stdio; this process becomes the helper
 * (see handOver) and exits with the container's code (125 setup failure, 126 cannot execute,
 * 127 not found, as docker).
 */
export function startAttached(store: Store, c: Container): Promise<never> {
  return handOver(store, c);
}

/** Starts the container under a monitor and returns once its process runs. */
export async function startDetached(store: Store, c: Container): Promise<ContainerState> {
  const layers = imageLayers(store, c);
  const attach = attachSocketPath(c);
  const spec = buildRunConfig(store, c.dir, c.config, layers, { detach: true, attachSocket: attach });
  clearExit(c.dir);
  const startedAt = new Date().toISOString();
  // fd 5, the hold pipe: a container with --rm that ends at once is not removed by its monitor
  // before this process has recorded its start (the pipe closes below, or when tspod ends).
  const child = cp.spawn(helperPath(), ['run'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe', 'pipe'] });
  const hold = (child.stdio as unknown as { destroy(): void; on(e: string, f: () => void): void }[])[5];
  hold.on('error', () => undefined);
  (child.stdio[3] as NodeJS.WritableStream).on('error', () => undefined);
  (child.stdio[3] as NodeJS.WritableStream).end(encodeRunConfig(spec));
  let statusText = '';
  let stderr = '';
  (child.stdio[4] as NodeJS.ReadableStream).setEncoding('utf8').on('data', (d: string) => (statusText += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  await new Promise<void>((resolve, reject) => {
    child.on('error', (e) => reject(new TspodError(`starting the helper: ${e.message}`)));
    // The status pipe closes when the monitor has written the pid (or failed).
    (child.stdio[4] as NodeJS.ReadableStream).on('end', () => resolve());
  });
  const statuses = parseStatus(statusText);
  const pid = statuses.find((s) => s.pid)?.pid;
  const failure = statuses.find((s) => s.error);
  if (!pid) {
    hold.destroy();
    const message = failure?.error ?? (stderr.trim().split('\n').pop() || 'the container failed to start');
    saveState(c.dir, { status: 'created', error: message });
    throw new TspodError(message.replace(/^tspod-helper: /, ''), { exitCode: failure?.exitCode ?? 125 });
  }
  const monitor = readMonitorPid(c.dir);
  // The monitor alone, one pid in a file, for a service manager's PIDFile= (`generate systemd`).
  if (monitor) writeFileAtomic(path.join(c.dir, 'userdata', 'conmon.pid'), `${monitor}\n`, 0o644, false);
  const state: ContainerState = {
    status: 'running',
    pid,
    monitorPid: monitor,
    monitorStart: monitor ? processStart(monitor) : undefined,
    startedAt,
    restartCount: c.state.restartCount,
  };
  saveState(c.dir, state);
  hold.destroy();
  return state;
}

/** The monitor's pid from the helper's pid file (`CONTAINER_PID MONITOR_PID`). */
export function readMonitorPid(dir: string): number | undefined {
  try {
    const parts = fs.readFileSync(path.join(dir, 'userdata', 'pid'), 'utf8').trim().split(/\s+/);
    const n = Number(parts[1] ?? parts[0]);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The monitor's attach socket. Unix socket paths are limited to 107 bytes, too short for the
 * store's paths: sockets live in the private runtime directory instead.
 */
export function attachSocketPath(c: Container): string {
  const base = path.join(runtimeDir(), 'tspod');
  mkdirp(base, 0o700);
  const full = path.join(base, `${c.config.id}.attach`);
  return full.length <= 107 ? full : path.join(base, `${c.config.id.slice(0, 16)}.attach`);
}

export { readExit };
