// `version` and `info`: what tspod is and what it found on this host, in podman's shape
// (host, store, registries, plugins, version).

import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { cgroupInfo } from './cgroups';
import { listContainers } from './container/record';
import { DEFAULT_CAPS } from './container/helper-config';
import { currentMapping } from './idmap';
import { findProgram } from './network';
import { loadRegistriesConf } from './registry';
import { VERSION } from './version';
import type { Store } from './store/store';

export interface VersionInfo {
  APIVersion: string;
  Version: string;
  NodeVersion: string;
  GitCommit: string;
  BuiltTime: string;
  Built: number;
  OsArch: string;
  Os: string;
}

const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' };

export function goArch(): string {
  return GOARCH[process.arch] ?? process.arch;
}

export function versionInfo(): VersionInfo {
  return {
    APIVersion: VERSION,
    Version: VERSION,
    NodeVersion: process.version,
    GitCommit: '',
    BuiltTime: 'Thu Jan  1 00:00:00 1970',
    Built: 0,
    OsArch: `linux/${goArch()}`,
    Os: 'linux',
  };
}

function distribution(): { distribution: string; version: string; codename?: string } {
  try {
    const text = fs.readFileSync('/etc/os-release', 'utf8');
    const get = (k: string) => new RegExp(`^${k}="?([^"\\n]*)"?$`, 'm').exec(text)?.[1] ?? '';
    return { distribution: get('ID'), version: get('VERSION_ID'), codename: get('VERSION_CODENAME') || undefined };
  } catch {
    return { distribution: 'unknown', version: 'unknown' };
  }
}

function meminfo(key: string): number {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync('/proc/meminfo', 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function uptime(): string {
  const s = os.uptime();
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}h ${m}m ${(s % 60).toFixed(2)}s (Approximately ${(s / 86400).toFixed(2)} days)`;
}

function programVersion(file: string | undefined): { executable: string; version: string } | undefined {
  if (!file) return undefined;
  let version = '';
  try {
    version = cp.execFileSync(file, ['--version'], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    version = 'unknown';
  }
  return { executable: file, version };
}

const FS_TYPES: Record<number, string> = {
  0xef53: 'extfs', 0x58465342: 'xfs', 0x9123683e: 'btrfs', 0x01021994: 'tmpfs', 0x794c7630: 'overlayfs', 0x2fc12fc1: 'zfs',
};

/** Kernel overlayfs works inside a user namespace (with userxattr) from Linux 5.11 on. */
function overlayMode(): string {
  const forced = process.env.TSPOD_OVERLAY;
  if (forced === 'fuse') return 'fuse-overlayfs';
  const [maj, min] = os.release().split('.').map(Number);
  if (maj > 5 || (maj === 5 && min >= 11)) return 'kernel overlayfs (userxattr)';
  return findProgram('fuse-overlayfs') ? 'fuse-overlayfs' : 'none: install fuse-overlayfs';
}

export function hostInfo(store: Store, runRoot: string): Record<string, unknown> {
  const m = currentMapping();
  const map = (rs: typeof m.uids) => rs.map((r) => ({ container_id: r.container, host_id: r.host, size: r.size }));
  const cg = cgroupInfo();
  const pasta = findProgram('pasta');
  const slirp = findProgram('slirp4netns');
  const containers = listContainers(store);
  const running = containers.filter((c) => c.state.status === 'running').length;
  let statfs: fs.StatsFs | undefined;
  try {
    statfs = fs.statfsSync(store.root);
  } catch {
    statfs = undefined;
  }
  const layersSize = store.layerIds().reduce((n, l) => n + (store.layer(l)?.size ?? 0), 0);
  const conf = loadRegistriesConf(process.env);
  return {
    host: {
      arch: goArch(),
      cgroupManager: 'cgroupfs',
      cgroupVersion: cg.version,
      cgroupControllers: cg.delegated,
      cpus: os.cpus().length,
      distribution: distribution(),
      eventLogger: 'none',
      hostname: os.hostname(),
      idMappings: { gidmap: map(m.gids), uidmap: map(m.uids) },
      ...(m.single ? { idMappingsNote: `single uid mapping: ${m.reason}` } : {}),
      kernel: os.release(),
      logDriver: 'k8s-file',
      memFree: os.freemem(),
      memTotal: os.totalmem(),
      networkBackend: pasta ? 'pasta' : slirp ? 'slirp4netns' : 'none',
      ociRuntime: { name: 'tspod-helper', package: 'tspod', version: `tspod-helper ${VERSION}` },
      os: 'linux',
      overlay: overlayMode(),
      ...(pasta ? { pasta: programVersion(pasta) } : {}),
      ...(slirp ? { slirp4netns: programVersion(slirp) } : {}),
      security: {
        apparmorEnabled: false,
        capabilities: DEFAULT_CAPS.map((c) => `CAP_${c}`).join(','),
        rootless: (process.getuid?.() ?? 0) !== 0,
        seccompEnabled: false,
        selinuxEnabled: false,
      },
      serviceIsRemote: false,
      swapFree: meminfo('SwapFree'),
      swapTotal: meminfo('SwapTotal'),
      uptime: uptime(),
      linkmode: 'static',
    },
    store: {
      configFile: '',
      containerStore: { number: containers.length, paused: 0, running, stopped: containers.length - running },
      graphDriverName: 'overlay',
      graphOptions: {},
      graphRoot: store.root,
      graphRootAllocated: statfs ? statfs.blocks * statfs.bsize : 0,
      graphRootUsed: statfs ? (statfs.blocks - statfs.bfree) * statfs.bsize : 0,
      graphStatus: {
        'Backing Filesystem': statfs ? FS_TYPES[statfs.type] ?? `0x${statfs.type.toString(16)}` : 'unknown',
        'Native Overlay Diff': 'true',
        'Supports d_type': 'true',
        'Using metacopy': 'false',
      },
      imageCopyTmpDir: store.tmpDir,
      imageStore: { number: store.images().length },
      layerStore: { number: store.layerIds().length, size: layersSize },
      runRoot,
      volumePath: `${store.root}/volumes`,
    },
    registries: { search: conf.unqualifiedSearchRegistries },
    plugins: { log: ['k8s-file'], network: [pasta && 'pasta', slirp && 'slirp4netns', 'none', 'host'].filter(Boolean), volume: ['local'] },
    version: versionInfo(),
  };
}
