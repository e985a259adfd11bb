// What the container end-to-end suites share: one store per file with the fixture images pulled,
// tspod run live (for signals and streaming output), the host's view of processes and mounts,
// and what a store holds once its containers are gone. Not a test file: uvu loads only *.test.js.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as assert from 'uvu/assert';
import { freshStore, REGISTRY, removeStore, RunOptions, RunResult, TSPOD_BIN, tspod, userEnv, userInfo } from '../lib';
import { show } from './image-helpers';

export const PROBE = `${REGISTRY}/probe:latest`;
export const LAYERED = `${REGISTRY}/layered:latest`;
export const BUSYBOX = `${REGISTRY}/busybox:latest`;

/** podman's default capabilities for a rootless container, in the kernel's order (what /probe caps prints). */
export const DEFAULT_CAPS_KERNEL_ORDER = [
  'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'SETFCAP',
];

export type Run = (args: string[], opts?: RunOptions) => Promise<RunResult>;

export interface Bed {
  user: string;
  store: string;
  run: Run;
  /** Runs and asserts exit 0. */
  ok: (args: string[], opts?: RunOptions) => Promise<RunResult>;
}

/** A store of `user`'s with `images` pulled, shared by the tests of one file. */
export async function openBed(user: string, images: string[]): Promise<Bed> {
  const store = await freshStore(user);
  const run: Run = (args, opts) => tspod(user, args, { ...opts, store });
  const ok = async (args: string[], opts?: RunOptions) => {
    const r = await run(args, opts);
    assert.is(r.code, 0, `tspod ${args.join(' ')}\n${show(r)}`);
    return r;
  };
  for (const i of images) await ok(['pull', '-q', i]);
  return { user, store, run, ok };
}

/** Removes every container (their monitors included, whatever state they are in) and the store. */
export async function closeBed(bed: Bed): Promise<void> {
  await bed.run(['rm', '-a', '-f']).catch(() => undefined);
  for (const pid of monitorPids(bed.store)) {
    try {
      // only a monitor still there: the pid may have been reused since
      if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'tspod-helper') process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  removeStore(bed.store);
}

export function lines(s: string): string[] {
  return s.split('\n').filter((l) => l.trim() !== '');
}

/** Polls `cond` every 50 ms until it holds; fails the test with `what` after `ms`. */
export async function waitUntil(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) assert.unreachable(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// tspod running, watched while it runs

export interface Live {
  /** tspod's own pid (setpriv execs it). */
  pid: number;
  stdout(): string;
  stderr(): string;
  waitFor(text: string, ms: number): Promise<void>;
  exited: Promise<RunResult>;
}

/** `tspod --root STORE ARGS` as the user, like tspod() but returning at once. */
export function spawnTspod(user: string, store: string, args: string[], env: Record<string, string> = {}): Live {
  const u = userInfo(user);
  const child = spawn('/usr/bin/setpriv', ['--reuid', String(u.uid), '--regid', String(u.gid), '--init-groups', '--', TSPOD_BIN, '--root', store, ...args], {
    env: { ...userEnv(u), ...env },
    cwd: u.home,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<RunResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err, timedOut: false }));
  });
  return {
    pid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    waitFor: (text, ms) => waitUntil(() => out.includes(text), ms, `"${text}" on the output of tspod ${args.join(' ')} (so far: ${JSON.stringify(out)} ${JSON.stringify(err)})`),
    exited,
  };
}

// ---------------------------------------------------------------------------------------------
// The host's view

export interface Proc {
  pid: number;
  ppid: number;
  state: string;
  uid: number;
  comm: string;
  cmdline: string[];
}

/** Every process of the machine, as root sees them in /proc. */
export function processes(): Proc[] {
  const out: Proc[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const status = fs.readFileSync(`/proc/${d}/status`, 'utf8');
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? -1);
      out.push({
        pid: Number(d),
        ppid: Number(fields[1]),
        state: fields[0],
        uid,
        comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
        cmdline: fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').filter(Boolean),
      });
    } catch {
      // ended while we looked
    }
  }
  return out;
}

/** Live (not zombie) processes whose command line mentions `text`. */
export function processesMentioning(text: string): Proc[] {
  return processes().filter((p) => p.state !== 'Z' && p.cmdline.some((a) => a.includes(text)) && p.pid !== process.pid);
}

export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Mount points (in any mount namespace on the machine) at or below `dir`. */
export function mountsUnder(dir: string): string[] {
  const found = new Set<string>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${d}/mountinfo`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const mp = line.split(' ')[4];
      if (mp && (mp === dir || mp.startsWith(dir + '/'))) found.add(mp);
    }
  }
  return [...found];
}

export function containerDir(store: string, id: string): string {
  return path.join(store, 'containers', id);
}

/** The monitor's pid file: the container's host pid, then the monitor's. */
export function pidFile(store: string, id: string): { container: number; monitor: number } {
  const [c, m] = fs.readFileSync(path.join(containerDir(store, id), 'userdata', 'pid'), 'utf8').trim().split(/\s+/).map(Number);
  return { container: c, monitor: m };
}

function monitorPids(store: string): number[] {
  const dir = path.join(store, 'containers');
  if (!fs.existsSync(dir)) return [];
  const out: number[] = [];
  for (const id of fs.readdirSync(dir)) {
    try {
      out.push(pidFile(store, id).monitor);
    } catch {
      // never started detached
    }
  }
  return out;
}

function entries(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

/** The attach sockets of these containers in the user's runtime directory. */
export function attachSockets(user: string, ids: string[]): string[] {
  const dir = path.join(userEnv(userInfo(user)).XDG_RUNTIME_DIR, 'tspod');
  return entries(dir).filter((n) => ids.some((id) => n.startsWith(id.slice(0, 16))));
}

/** What a store holds of containers: nothing at all once every container is removed. */
export function leftovers(store: string): { containers: string[]; names: string[]; tmp: string[]; mounts: string[] } {
  return {
    containers: entries(path.join(store, 'containers')),
    names: entries(path.join(store, 'names')),
    tmp: entries(path.join(store, 'tmp')),
    mounts: mountsUnder(store),
  };
}

export const NOTHING_LEFT = { containers: [], names: [], tmp: [], mounts: [] };

/** A TCP port that nothing listens on at 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A one-shot-per-connection TCP server on the host's loopback that answers `pong:` + what it got. */
export async function pongServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const srv = net.createServer((sock) => {
    let got = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (got += d));
    sock.on('end', () => sock.end(`pong:${got}`));
    sock.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => srv.close(() => resolve())),
  };
}

/** An HTTP GET of http://127.0.0.1:PORT/PATH with a plain socket: status line and body. */
export function httpGet(port: number, p = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    sock.setEncoding('utf8');
    sock.setTimeout(3000, () => sock.destroy(new Error('timed out')));
    sock.on('connect', () => sock.write(`GET ${p} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n`));
    sock.on('data', (d: string) => (data += d));
    sock.on('error', reject);
    sock.on('end', () => {
      const status = Number(/^HTTP\/1\.\d (\d{3})/.exec(data)?.[1] ?? 0);
      const body = data.slice(data.indexOf('\r\n\r\n') + 4);
      resolve({ status, body });
    });
  });
}

/** `inspect` of one container, parsed. */
export async function inspectOne(bed: Bed, name: string): Promise<Record<string, any>> {
  const r = await bed.ok(['inspect', name]);
  const list = JSON.parse(r.stdout) as Record<string, any>[];
  assert.is(list.length, 1);
  return list[0];
}
