// `top`: the processes of a running container's pid namespace, as podman shows them (the AIX
// format descriptors of containers/psgo). Everything comes from the host's /proc without joining
// the container: the processes of the container's user namespace belong to the user who owns
// it, so their /proc/PID/{stat,status,cmdline,ns/pid} are readable whatever subordinate uid they
// run as. Pids are shown as the container sees them (the last NSpid of /proc/PID/status), users
// and groups as the container names them (the host id mapped back through the container's id
// map, then the container's /etc/passwd and /etc/group).

import * as fs from 'node:fs';
import { TspodError } from '../errors';
import type { Container } from './record';

/** Clock ticks per second of /proc/PID/stat times (USER_HZ, 100 on every Linux port but alpha). */
const CLK_TCK = 100;

interface Proc {
  hostPid: number;
  pid: number;
  hostPpid: number;
  hostPgrp: number;
  comm: string;
  state: string;
  ttyNr: number;
  utime: number;
  stime: number;
  nice: string;
  starttime: number;
  vsize: number;
  /** status fields: Uid/Gid are `real effective saved fs` as the host sees them */
  status: Map<string, string>;
  args: string[];
}

interface TopContext {
  procs: Map<number, Proc>; // by host pid
  uidMap: Array<[number, number, number]>; // container, host, size
  gidMap: Array<[number, number, number]>;
  users: Map<number, string>;
  groups: Map<number, string>;
  bootTime: number; // seconds since the epoch
  now: number; // ms since the epoch
}

interface Descriptor {
  normal: string;
  code?: string;
  header: string;
  value(p: Proc, ctx: TopContext): string;
}

/** Go's time.Duration.String() for a whole number of milliseconds: 0s, 950ms, 8.936s, 1m5s, 2h0m3s. */
export function goDuration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const rest = ms % 60_000;
  const s = rest % 1000 === 0 ? String(rest / 1000) : (rest / 1000).toFixed(3).replace(/0+$/, '');
  return (h ? `${h}h` : '') + (h || m ? `${m}m` : '') + `${s}s`;
}

function mapBack(map: Array<[number, number, number]>, hostId: number): number {
  for (const [c, h, n] of map) if (hostId >= h && hostId < h + n) return c + (hostId - h);
  return 65534; // the overflow id, as the kernel shows an unmapped one
}

function ids(p: Proc, field: 'Uid' | 'Gid'): number[] {
  return (p.status.get(field) ?? '').split(/\s+/).filter(Boolean).map(Number);
}

function userName(ctx: TopContext, hostUid: number): string {
  const uid = mapBack(ctx.uidMap, hostUid);
  return ctx.users.get(uid) ?? String(uid);
}

function groupName(ctx: TopContext, hostGid: number): string {
  const gid = mapBack(ctx.gidMap, hostGid);
  return ctx.groups.get(gid) ?? String(gid);
}

/** A host pid as the container sees it; 0 for a process outside the container (its parent's). */
function containerPid(ctx: TopContext, hostPid: number): number {
  return ctx.procs.get(hostPid)?.pid ?? 0;
}

function elapsedMs(p: Proc, ctx: TopContext): number {
  // As psgo: the start in whole seconds after boot, so sub-second parts come from now alone.
  const created = (ctx.bootTime + Math.floor(p.starttime / CLK_TCK)) * 1000;
  return Math.max(0, ctx.now - created);
}

function cpuSeconds(p: Proc): number {
  return Math.floor((p.utime + p.stime) / CLK_TCK);
}

function ttyName(nr: number): string {
  if (nr === 0) return '?';
  const major = (nr >> 8) & 0xfff;
  const minor = (nr & 0xff) | ((nr >> 12) & 0xfff00);
  if (major >= 136 && major <= 143) return `pts/${(major - 136) * 256 + minor}`;
  if (major === 4 && minor < 64) return `tty${minor}`;
  if (major === 4) return `ttyS${minor - 64}`;
  if (major === 5 && minor === 1) return 'console';
  return '?';
}

const DESCRIPTORS: Descriptor[] = [
  { normal: 'pcpu', code: '%C', header: '%CPU', value: (p, ctx) => ((100 * cpuSeconds(p)) / Math.max(elapsedMs(p, ctx) / 1000, 1e-9)).toFixed(3) },
  { normal: 'group', code: '%G', header: 'GROUP', value: (p, ctx) => groupName(ctx, ids(p, 'Gid')[1]) },
  { normal: 'ppid', code: '%P', header: 'PPID', value: (p, ctx) => String(containerPid(ctx, p.hostPpid)) },
  { normal: 'user', code: '%U', header: 'USER', value: (p, ctx) => userName(ctx, ids(p, 'Uid')[1]) },
  { normal: 'uid', header: 'UID', value: (p, ctx) => String(mapBack(ctx.uidMap, ids(p, 'Uid')[1])) },
  { normal: 'gid', header: 'GID', value: (p, ctx) => String(mapBack(ctx.gidMap, ids(p, 'Gid')[1])) },
  { normal: 'args', code: '%a', header: 'COMMAND', value: (p) => (p.args.length && p.args[0] !== '' ? p.args.join(' ') : `[${p.comm}]`) },
  { normal: 'comm', code: '%c', header: 'COMMAND', value: (p) => p.comm },
  { normal: 'rgroup', code: '%g', header: 'RGROUP', value: (p, ctx) => groupName(ctx, ids(p, 'Gid')[0]) },
  { normal: 'nice', code: '%n', header: 'NI', value: (p) => p.nice },
  { normal: 'pid', code: '%p', header: 'PID', value: (p) => String(p.pid) },
  { normal: 'pgid', code: '%r', header: 'PGID', value: (p, ctx) => String(containerPid(ctx, p.hostPgrp)) },
  { normal: 'etime', code: '%t', header: 'ELAPSED', value: (p, ctx) => goDuration(elapsedMs(p, ctx)) },
  { normal: 'ruser', code: '%u', header: 'RUSER', value: (p, ctx) => userName(ctx, ids(p, 'Uid')[0]) },
  { normal: 'time', code: '%x', header: 'TIME', value: (p) => goDuration(cpuSeconds(p) * 1000) },
  { normal: 'tty', code: '%y', header: 'TTY', value: (p) => ttyName(p.ttyNr) },
  { normal: 'vsz', code: '%z', header: 'VSZ', value: (p) => String(Math.floor(p.vsize / 1024)) },
  { normal: 'rss', header: 'RSS', value: (p) => (p.status.get('VmRSS') ?? '0').replace(/\s*kB$/, '') },
  { normal: 'state', header: 'STATE', value: (p) => p.state },
  { normal: 'hpid', header: 'HPID', value: (p) => String(p.hostPid) },
];

/** podman's default: `ps -ef`'s columns. */
export const DEFAULT_DESCRIPTORS = ['user', 'pid', 'ppid', 'pcpu', 'etime', 'tty', 'time', 'args'];

/** The descriptor names from top's arguments: words or comma lists, or ps(1) style `-eo LIST`. */
export function parseTopArgs(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('-')) {
      out.push(...a.split(',').map((d) => d.trim()).filter(Boolean));
      continue;
    }
    // ps options: -e and -A (every process: the only view there is), -f (the full format, which
    // is the default), -o LIST (or -oLIST, -eo LIST).
    const flags = a.slice(1);
    for (let j = 0; j < flags.length; j++) {
      const f = flags[j];
      if (f === 'e' || f === 'A' || f === 'f') continue;
      if (f === 'o') {
        const list = flags.slice(j + 1) || args[++i];
        if (!list) throw new TspodError('ps option -o needs a list of format descriptors');
        out.push(...list.split(',').map((d) => d.trim()).filter(Boolean));
        break;
      }
      throw new TspodError(`unsupported ps option "-${f}": use format descriptors (pid, user, args, ...) or -eo LIST`);
    }
  }
  return out.length ? out : DEFAULT_DESCRIPTORS;
}

function findDescriptor(name: string): Descriptor {
  const d = DESCRIPTORS.find((x) => x.normal === name || x.code === name);
  if (!d) throw new TspodError(`'${name}': unknown descriptor`);
  return d;
}

export function listDescriptors(): string[] {
  return DESCRIPTORS.map((d) => d.normal).sort();
}

function readProc(hostPid: number): Proc | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${hostPid}/stat`, 'utf8');
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    const f = stat.slice(close + 2).split(' ');
    const status = new Map<string, string>();
    for (const line of fs.readFileSync(`/proc/${hostPid}/status`, 'utf8').split('\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) status.set(line.slice(0, colon), line.slice(colon + 1).trim());
    }
    const nspid = (status.get('NSpid') ?? String(hostPid)).split(/\s+/);
    const cmdline = fs.readFileSync(`/proc/${hostPid}/cmdline`, 'utf8');
    return {
      hostPid,
      pid: Number(nspid[nspid.length - 1]),
      hostPpid: Number(f[1]),
      hostPgrp: Number(f[2]),
      comm: stat.slice(open + 1, close),
      state: f[0],
      ttyNr: Number(f[4]),
      utime: Number(f[11]),
      stime: Number(f[12]),
      nice: f[16],
      starttime: Number(f[19]),
      vsize: Number(f[20]),
      status,
      args: cmdline.replace(/\0+$/, '').split('\0'),
    };
  } catch {
    return undefined; // it ended while we looked
  }
}

function readIdMap(pid: number, file: string): Array<[number, number, number]> {
  return fs
    .readFileSync(`/proc/${pid}/${file}`, 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter((v) => v.length === 3 && v.every(Number.isFinite)) as Array<[number, number, number]>;
}

/**
 * Names from a file of the container (`etc/passwd`), through /proc/PID/root. The container
 * decides what is there: `etc` and the file must be what they seem, a directory and a regular
 * file, not symlinks that the host would resolve against its own root. Anything else: no names.
 */
function readNames(pid: number, file: string): Map<number, string> {
  const names = new Map<number, string>();
  const root = `/proc/${pid}/root`;
  try {
    if (!fs.lstatSync(`${root}/etc`).isDirectory()) return names;
    const fd = fs.openSync(`${root}/etc/${file}`, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    try {
      if (!fs.fstatSync(fd).isFile()) return names;
      const buf = Buffer.alloc(1 << 20);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      for (const line of buf.toString('utf8', 0, n).split('\n')) {
        const f = line.split(':');
        if (f.length >= 3 && /^\d+$/.test(f[2]) && !names.has(Number(f[2]))) names.set(Number(f[2]), f[0]);
      }
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // unreadable (a subordinate owner and mode 0600, or no /etc): numbers it is
  }
  return names;
}

function bootTime(): number {
  const m = /^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** The table `top` prints: a header row, then one row per process of the container, by pid. */
export function containerTop(c: Container, args: string[]): string[][] {
  const descriptors = parseTopArgs(args).map(findDescriptor);
  if ((c.state.status !== 'running' && c.state.status !== 'stopping') || !c.state.pid) {
    throw new TspodError('top can only be used on running containers: container state improper');
  }
  const pid = c.state.pid;
  let pidns: string;
  try {
    pidns = fs.readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    throw new TspodError('top can only be used on running containers: container state improper');
  }
  const procs = new Map<number, Proc>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let ns: string;
    try {
      ns = fs.readlinkSync(`/proc/${entry}/ns/pid`);
    } catch {
      continue; // another user's process, or gone
    }
    if (ns !== pidns) continue;
    const p = readProc(Number(entry));
    if (p) procs.set(p.hostPid, p);
  }
  const ctx: TopContext = {
    procs,
    uidMap: readIdMap(pid, 'uid_map'),
    gidMap: readIdMap(pid, 'gid_map'),
    users: readNames(pid, 'passwd'),
    groups: readNames(pid, 'group'),
    bootTime: bootTime(),
    now: Date.now(),
  };
  const rows = [...procs.values()].sort((a, b) => a.pid - b.pid).map((p) => descriptors.map((d) => d.value(p, ctx)));
  return [descriptors.map((d) => d.header), ...rows];
}
