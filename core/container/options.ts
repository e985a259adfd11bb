// Parsing of run/create options that carry their own small languages: -v, --tmpfs, --mount,
// -p, --cap-add/--cap-drop, --userns, --network. Pure functions.

import * as path from 'node:path';
import { TspodError } from '../errors';
import type { MountSpec } from './helper-config';
import type { PortMapping } from './record';

export const ALL_CAPS = [
  'AUDIT_CONTROL', 'AUDIT_READ', 'AUDIT_WRITE', 'BLOCK_SUSPEND', 'BPF', 'CHECKPOINT_RESTORE', 'CHOWN', 'DAC_OVERRIDE',
  'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'IPC_LOCK', 'IPC_OWNER', 'KILL', 'LEASE', 'LINUX_IMMUTABLE', 'MAC_ADMIN',
  'MAC_OVERRIDE', 'MKNOD', 'NET_ADMIN', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_RAW', 'PERFMON', 'SETFCAP', 'SETGID',
  'SETPCAP', 'SETUID', 'SYSLOG', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_CHROOT', 'SYS_MODULE', 'SYS_NICE', 'SYS_PACCT',
  'SYS_PTRACE', 'SYS_RAWIO', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'WAKE_ALARM',
];

function capName(s: string): string {
  const n = s.toUpperCase().replace(/^CAP_/, '');
  if (n !== 'ALL' && !ALL_CAPS.includes(n)) throw new TspodError(`invalid capability "${s}"`);
  return n;
}

/** The capability set: defaults, then drops, then adds (ALL allowed in both), as podman. */
export function resolveCaps(defaults: string[], add: string[], drop: string[]): string[] {
  const adds = add.map(capName);
  const drops = drop.map(capName);
  let set = new Set(defaults);
  if (drops.includes('ALL')) set = new Set();
  for (const d of drops) set.delete(d);
  if (adds.includes('ALL')) for (const c of ALL_CAPS) set.add(c);
  for (const a of adds) if (a !== 'ALL') set.add(a);
  return ALL_CAPS.filter((c) => set.has(c));
}

const BIND_OPTS = new Set(['ro', 'rw', 'z', 'Z', 'rbind', 'bind', 'nosuid', 'suid', 'nodev', 'dev', 'noexec', 'exec', 'private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'U', 'O', 'copy', 'nocopy']);

export interface VolumeSpec {
  mount: MountSpec;
  /** A named (or anonymous, when name is empty) volume rather than a host path. */
  volume?: string;
  /** -v NAME:/dir:nocopy, --mount type=volume,volume-nocopy: the image's files are not copied in. */
  nocopy?: boolean;
}

/** An absolute path of the container, lexically clean: `/data/` and `/data` are one place. */
export function cleanContainerPath(p: string): string {
  return path.posix.normalize(p).replace(/(.)\/$/, '$1');
}

function checkDest(dest: string, what: string): string {
  if (!dest.startsWith('/')) throw new TspodError(`invalid container path "${dest}" in ${what}: must be an absolute path`);
  return cleanContainerPath(dest);
}

function bindOptions(opts: string[], what: string): string[] {
  const out = ['rbind'];
  let ro = false;
  for (const o of opts) {
    if (!BIND_OPTS.has(o)) throw new TspodError(`invalid option "${o}" in ${what}`);
    if (o === 'ro') ro = true;
    else if (o === 'rw') ro = false;
    else if (['nosuid', 'nodev', 'noexec'].includes(o)) out.push(o);
    else if (o === 'bind') out[0] = 'bind';
  }
  out.push(ro ? 'ro' : 'rw');
  return out;
}

/** -v SRC:DST[:OPTS] | -v DST (an anonymous volume) | -v NAME:DST[:OPTS] (a named volume). */
export function parseVolume(spec: string, cwd: string): VolumeSpec {
  const parts = spec.split(':');
  if (parts.length === 1) {
    return { mount: { type: 'bind', source: '', destination: checkDest(parts[0], `-v ${spec}`), options: ['rbind', 'rw'] }, volume: '' };
  }
  if (parts.length > 3) throw new TspodError(`invalid volume specification "${spec}": too many colons`);
  const [src, dst, opts] = parts;
  if (!src) throw new TspodError(`invalid volume specification "${spec}": empty source`);
  const options = bindOptions(opts ? opts.split(',') : [], `-v ${spec}`);
  const destination = checkDest(dst, `-v ${spec}`);
  if (src.startsWith('/') || src.startsWith('.')) {
    return { mount: { type: 'bind', source: path.resolve(cwd, src), destination, options } };
  }
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(src)) throw new TspodError(`invalid volume name "${src}"`);
  return { mount: { type: 'bind', source: '', destination, options }, volume: src, nocopy: (opts ?? '').split(',').includes('nocopy') };
}

/** --tmpfs DST[:OPTS] */
export function parseTmpfs(spec: string): MountSpec {
  const i = spec.indexOf(':');
  const dst = i < 0 ? spec : spec.slice(0, i);
  const opts = i < 0 ? [] : spec.slice(i + 1).split(',').filter(Boolean);
  return { type: 'tmpfs', source: 'tmpfs', destination: checkDest(dst, `--tmpfs ${spec}`), options: opts.length ? opts : ['rw', 'nosuid', 'nodev', 'exec'] };
}

/** --mount type=bind,source=/a,destination=/b[,ro] | type=tmpfs,destination=/x[,tmpfs-size=...] | type=volume */
export function parseMount(spec: string, cwd: string): VolumeSpec {
  const kv = new Map<string, string>();
  const flags: string[] = [];
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) flags.push(part);
    else kv.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const type = kv.get('type') ?? 'volume';
  const dst = kv.get('destination') ?? kv.get('dst') ?? kv.get('target');
  if (!dst) throw new TspodError(`invalid --mount "${spec}": destination is required`);
  const destination = checkDest(dst, `--mount ${spec}`);
  const ro = flags.includes('ro') || flags.includes('readonly') || kv.get('ro') === 'true' || kv.get('readonly') === 'true';
  switch (type) {
    case 'bind': {
      const src = kv.get('source') ?? kv.get('src');
      if (!src) throw new TspodError(`invalid --mount "${spec}": source is required for a bind mount`);
      return { mount: { type: 'bind', source: path.resolve(cwd, src), destination, options: ['rbind', ro ? 'ro' : 'rw'] } };
    }
    case 'tmpfs': {
      const opts = ['rw', 'nosuid', 'nodev'];
      if (kv.has('tmpfs-size')) opts.push(`size=${kv.get('tmpfs-size')}`);
      if (kv.has('tmpfs-mode')) opts.push(`mode=${kv.get('tmpfs-mode')}`);
      if (ro) opts[0] = 'ro';
      return { mount: { type: 'tmpfs', source: 'tmpfs', destination, options: opts } };
    }
    case 'volume': {
      const src = kv.get('source') ?? kv.get('src') ?? '';
      const nocopy = flags.includes('volume-nocopy') || kv.get('volume-nocopy') === 'true';
      return { mount: { type: 'bind', source: '', destination, options: ['rbind', ro ? 'ro' : 'rw'] }, volume: src, nocopy };
    }
    default:
      throw new TspodError(`invalid --mount "${spec}": unsupported type "${type}"`);
  }
}

function port(s: string, what: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n < 1 || n > 65535) throw new TspodError(`invalid port "${s}" in ${what}`);
  return n;
}

function portRange(s: string, what: string): [number, number] {
  const [a, b] = s.split('-');
  const lo = port(a, what);
  const hi = b === undefined ? lo : port(b, what);
  if (hi < lo) throw new TspodError(`invalid port range "${s}" in ${what}`);
  return [lo, hi];
}

/** -p [[IP:][HOSTPORT]:]CONTAINERPORT[/PROTO], ranges allowed (8080-8081:80-81). */
export function parsePublish(spec: string): PortMapping[] {
  const what = `-p ${spec}`;
  let rest = spec;
  let protocol: 'tcp' | 'udp' = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const p = rest.slice(slash + 1);
    if (p !== 'tcp' && p !== 'udp') throw new TspodError(`invalid protocol "${p}" in ${what}: use tcp or udp`);
    protocol = p;
    rest = rest.slice(0, slash);
  }
  let hostIp = '';
  let hostPart = '';
  let ctrPart: string;
  const v6 = /^\[([0-9a-fA-F:]+)\]:(.*)$/.exec(rest);
  if (v6) {
    hostIp = v6[1];
    const [h, c] = v6[2].split(':');
    hostPart = h;
    ctrPart = c;
  } else {
    const parts = rest.split(':');
    if (parts.length === 1) ctrPart = parts[0];
    else if (parts.length === 2) [hostPart, ctrPart] = parts;
    else if (parts.length === 3) [hostIp, hostPart, ctrPart] = parts;
    else throw new TspodError(`invalid port specification "${spec}"`);
  }
  if (hostIp && !/^(\d{1,3}\.){3}\d{1,3}$|:/.test(hostIp)) throw new TspodError(`invalid IP address "${hostIp}" in ${what}`);
  const [clo, chi] = portRange(ctrPart, what);
  const range = chi - clo + 1;
  let hlo: number;
  if (hostPart === '') hlo = 0; // any free port, chosen at start
  else {
    const [a, b] = portRange(hostPart, what);
    if (b - a + 1 !== range) throw new TspodError(`invalid port specification "${spec}": host and container ranges differ in length`);
    hlo = a;
  }
  return [{ hostIp, hostPort: hlo, containerPort: clo, protocol, range }];
}

/** The PORTS column and inspect text: `127.0.0.1:18081->80/tcp`, `0.0.0.0:8080->80/tcp`. */
export function formatPorts(ports: PortMapping[]): string {
  return ports
    .map((p) => {
      const ip = p.hostIp || '0.0.0.0';
      if (p.range > 1) return `${ip}:${p.hostPort}-${p.hostPort + p.range - 1}->${p.containerPort}-${p.containerPort + p.range - 1}/${p.protocol}`;
      return `${ip}:${p.hostPort}->${p.containerPort}/${p.protocol}`;
    })
    .join(', ');
}

export type NetworkMode = 'none' | 'host' | 'pasta' | 'slirp4netns';

/**
 * The options after the mode, as podman takes them: `pasta:-T,8080` (pasta's own arguments,
 * comma separated: `-T 8080` lets the container reach the host's loopback port 8080 at
 * 127.0.0.1), `slirp4netns:allow_host_loopback=true` (the host's loopback at 10.0.2.2).
 */
export function parseNetworkOptions(value: string | undefined, mode: NetworkMode): string[] {
  const colon = (value ?? '').indexOf(':');
  if (colon < 0) return [];
  const opts = value!.slice(colon + 1).split(',').filter(Boolean);
  if (mode === 'slirp4netns') {
    for (const o of opts) {
      if (!/^allow_host_loopback=(true|false)$/.test(o)) throw new TspodError(`invalid slirp4netns option "${o}": only allow_host_loopback=true|false is supported`);
    }
  } else if (mode !== 'pasta' && opts.length) {
    throw new TspodError(`network "${value}": options are supported for pasta and slirp4netns only`);
  }
  return opts;
}

/** --network: none, host, pasta, slirp4netns; bridge / default / private mean the rootless default. */
export function parseNetwork(value: string | undefined, available: { pasta: boolean; slirp4netns: boolean }): NetworkMode {
  const v = (value ?? 'default').split(':')[0];
  switch (v) {
    case 'none':
    case 'host':
      return v;
    case 'pasta':
      if (!available.pasta) throw new TspodError('pasta is not installed (package passt): use --network slirp4netns or none');
      return v;
    case 'slirp4netns':
      if (!available.slirp4netns) throw new TspodError('slirp4netns is not installed: use --network pasta or none');
      return v;
    case 'default':
    case 'bridge':
    case 'private':
      if (available.pasta) return 'pasta';
      if (available.slirp4netns) return 'slirp4netns';
      throw new TspodError('neither pasta (package passt) nor slirp4netns is installed: install one, or use --network none');
    default:
      throw new TspodError(`network "${v}" is not supported: use none, host, pasta or slirp4netns`);
  }
}
