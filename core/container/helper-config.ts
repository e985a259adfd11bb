// The configuration tspod hands to `tspod-helper run` on fd 3 (userns-helper/PROTOCOL.md):
// NUL-terminated key/value pairs, repeated keys for lists.

import type { IdRange } from '../idmap';

export interface MountSpec {
  type: 'bind' | 'tmpfs';
  source: string;
  destination: string;
  options: string[];
}

export interface RunConfig {
  id: string;
  /** Layer directories, topmost first. */
  lower: string[];
  upper: string;
  work: string;
  merged: string;
  overlay?: 'auto' | 'kernel' | 'fuse';
  /** fuse-overlayfs id mapping options (uidmapping=...,gidmapping=...), with overlay 'fuse'. */
  fuseopt?: string;
  readonly?: boolean;
  uidmap: IdRange[];
  gidmap: IdRange[];
  hostname: string;
  cwd: string;
  user: string;
  groups?: string[];
  env: string[];
  args: string[];
  caps: string[];
  noNewPrivs: boolean;
  mounts: MountSpec[];
  masked: string[];
  readonlyPaths: string[];
  net: 'none' | 'host' | 'pasta' | 'slirp4netns';
  netArgs?: string[];
  tty?: boolean;
  stdin?: boolean;
  init?: boolean;
  detach?: boolean;
  log?: string;
  exitFile?: string;
  pidFile?: string;
  /** Detached: argv the monitor runs after the container ended. */
  exitCmd?: string[];
  /** After the end: trees to remove, and [link, target] symlinks to unlink if they still point there (--rm). */
  rmPaths?: string[];
  unlinks?: Array<[string, string]>;
  /** The start of the one error line when the helper reports errors itself ("Error: "). */
  errorPrefix?: string;
  /** Detached: path of the monitor's attach socket (PROTOCOL.md, "The attach socket"). */
  attach?: string;
}

const US = '\x1f';

export function encodeRunConfig(c: RunConfig): Buffer {
  const parts: string[] = [];
  const put = (k: string, v: string | number | boolean | undefined) => {
    if (v === undefined || v === false) return;
    const s = v === true ? '1' : String(v);
    if (s.includes('\0')) throw new Error(`internal: NUL byte in ${k}`);
    parts.push(k, s);
  };
  put('id', c.id);
  for (const l of c.lower) put('lower', l);
  put('upper', c.upper);
  put('work', c.work);
  put('merged', c.merged);
  put('overlay', c.overlay ?? 'auto');
  put('fuseopt', c.fuseopt);
  put('readonly', c.readonly);
  for (const r of c.uidmap) put('uidmap', `${r.container}:${r.host}:${r.size}`);
  for (const r of c.gidmap) put('gidmap', `${r.container}:${r.host}:${r.size}`);
  put('hostname', c.hostname);
  put('cwd', c.cwd);
  put('user', c.user);
  for (const g of c.groups ?? []) put('group', g);
  for (const e of c.env) put('env', e);
  for (const a of c.args) put('arg', a);
  for (const cap of c.caps) put('cap', cap);
  put('nonewprivs', c.noNewPrivs);
  for (const m of c.mounts) put('mount', [m.type, m.source, m.destination, m.options.join(',')].join(US));
  for (const p of c.masked) put('mask', p);
  for (const p of c.readonlyPaths) put('ropath', p);
  put('net', c.net);
  for (const a of c.netArgs ?? []) put('netarg', a);
  put('tty', c.tty);
  put('stdin', c.stdin);
  put('init', c.init);
  put('detach', c.detach);
  put('log', c.log);
  put('exitfile', c.exitFile);
  put('pidfile', c.pidFile);
  for (const a of c.exitCmd ?? []) put('exitcmd', a);
  for (const p of c.rmPaths ?? []) put('rmpath', p);
  for (const [link, target] of c.unlinks ?? []) put('unlink', `${link}${US}${target}`);
  put('errorprefix', c.errorPrefix);
  put('attach', c.attach);
  return Buffer.from(parts.map((p) => p + '\0').join(''), 'utf8');
}

/** podman's default capabilities for rootless containers. */
export const DEFAULT_CAPS = [
  'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
];

/** runc's and crun's masked and read-only paths. */
export const MASKED_PATHS = [
  '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats',
  '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/fs/selinux', '/sys/dev/block', '/proc/interrupts',
];
export const READONLY_PATHS = ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
