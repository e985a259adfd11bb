// `version` and `info`: what tspod is and what it found on this host.

import * as fs from 'node:fs';
import * as os from 'node:os';
import { currentMapping } from './idmap';
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

export function hostInfo(store: Store, runRoot: string): Record<string, unknown> {
  const m = currentMapping();
  const map = (rs: typeof m.uids) => rs.map((r) => ({ container_id: r.container, host_id: r.host, size: r.size }));
  return {
    host: {
      arch: goArch(),
      cpus: os.cpus().length,
      distribution: distribution(),
      hostname: os.hostname(),
      idMappings: { gidmap: map(m.gids), uidmap: map(m.uids) },
      kernel: os.release(),
      memFree: os.freemem(),
      memTotal: os.totalmem(),
      os: 'linux',
      security: { rootless: (process.getuid?.() ?? 0) !== 0 },
      uptime: `${Math.floor(os.uptime())}s`,
    },
    store: {
      graphDriverName: 'overlay',
      graphRoot: store.root,
      imageStore: { number: store.images().length },
      runRoot,
    },
    version: versionInfo(),
  };
}
