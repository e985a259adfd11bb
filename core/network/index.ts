// Rootless networking: the network program (pasta, or slirp4netns where pasta is missing) that
// the helper starts against the container's network namespace, port publishing, and the
// /etc/hosts and /etc/resolv.conf a container sees.

import * as fs from 'node:fs';
import * as os from 'node:os';
import type { PortMapping } from '../container/record';
import type { NetworkMode } from '../container/options';

const SEARCH = ['/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin'];

export function findProgram(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of [...(env.PATH ?? '').split(':').filter(Boolean), ...SEARCH]) {
    const p = `${dir}/${name}`;
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

export function availableNetworks(env: NodeJS.ProcessEnv = process.env): { pasta: boolean; slirp4netns: boolean } {
  return { pasta: !!findProgram('pasta', env), slirp4netns: !!findProgram('slirp4netns', env) };
}

/** pasta's -t/-u port option: `[ADDR/]HOST[-HOST2]:CTR[-CTR2]`. */
function pastaPort(p: PortMapping): string[] {
  const flag = p.protocol === 'udp' ? '-u' : '-t';
  const host = p.range > 1 ? `${p.hostPort}-${p.hostPort + p.range - 1}` : `${p.hostPort}`;
  const ctr = p.range > 1 ? `${p.containerPort}-${p.containerPort + p.range - 1}` : `${p.containerPort}`;
  return [flag, `${p.hostIp ? p.hostIp + '/' : ''}${host}:${ctr}`];
}

/**
 * The argv the helper runs once the container's namespaces exist ("{pid}" is its pid). pasta
 * joins the container's user and network namespaces, configures the interface from the host's
 * addresses and routes, forwards published ports, and daemonizes once ready.
 */
export function networkArgv(mode: NetworkMode, ports: PortMapping[], options: string[] = [], env: NodeJS.ProcessEnv = process.env): string[] {
  if (mode === 'pasta') {
    const pasta = findProgram('pasta', env) ?? 'pasta';
    // The user's own pasta options (--network pasta:-T,8080) replace the defaults they cover,
    // as podman does; --map-gw is podman's word for dropping --no-map-gw, not pasta's.
    const given = (...flags: string[]) => options.some((o) => flags.includes(o));
    const args = [pasta, '--config-net', '--quiet'];
    if (!given('--map-gw')) args.push('--no-map-gw');
    if (ports.length) args.push(...ports.flatMap(pastaPort));
    else if (!given('-t', '--tcp-ports')) args.push('-t', 'none');
    if (!given('-u', '--udp-ports')) args.push('-u', 'none');
    if (!given('-T', '--tcp-ns')) args.push('-T', 'none');
    if (!given('-U', '--udp-ns')) args.push('-U', 'none');
    return [...args, ...options.filter((o) => o !== '--map-gw'), '{pid}'];
  }
  if (mode === 'slirp4netns') {
    const slirp = findProgram('slirp4netns', env) ?? 'slirp4netns';
    const loopback = options.includes('allow_host_loopback=true');
    return [slirp, '--configure', '--mtu=65520', ...(loopback ? [] : ['--disable-host-loopback']), '--ready-fd=3', '--exit-fd=4', '{pid}', 'tap0'];
  }
  return [];
}

function firstHostAddress(): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

/** /etc/hosts for the container: localhost, and its own name. */
export function hostsFile(hostname: string, name: string, mode: NetworkMode): string {
  let own = '127.0.1.1';
  if (mode === 'pasta') own = firstHostAddress() ?? own;
  else if (mode === 'slirp4netns') own = '10.0.2.100';
  else if (mode === 'host') own = firstHostAddress() ?? own;
  const names = hostname === name ? hostname : `${hostname} ${name}`;
  return `127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4\n::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6\n${own}\t${names}\n`;
}

/**
 * /etc/resolv.conf: the host's, except that loopback name servers cannot be reached from the
 * container's own network namespace (slirp4netns offers its own at 10.0.2.3).
 */
export function resolvConf(mode: NetworkMode): string {
  let host = '';
  try {
    host = fs.readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    host = '';
  }
  if (mode === 'host') return host;
  const lines = host.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1)/.test(l));
  if (mode === 'slirp4netns') lines.unshift('nameserver 10.0.2.3');
  return lines.join('\n').replace(/\n*$/, '\n');
}
