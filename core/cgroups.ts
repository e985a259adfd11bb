// What the host's cgroups allow a rootless user. Resource limits (--memory, --cpus, --pids-limit)
// need the unified hierarchy (cgroup v2) with the controllers delegated to the user's own
// cgroup, as systemd does for user sessions; cgroup v1, or v2 without delegation, cannot limit a
// rootless container, and tspod says so instead of pretending.

import * as fs from 'node:fs';
import * as path from 'node:path';

export interface CgroupInfo {
  /** v2: unified only; v1: legacy or hybrid (v1 controllers, a v2 tree without them). */
  version: 'v1' | 'v2';
  /** The user's own cgroup in the unified tree, when there is one. */
  ownPath?: string;
  /** Controllers the user can enable below its own cgroup (delegated), e.g. memory cpu pids. */
  delegated: string[];
}

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export function cgroupInfo(root = '/sys/fs/cgroup'): CgroupInfo {
  const unified = read(path.join(root, 'cgroup.controllers')) !== undefined;
  if (!unified) return { version: 'v1', delegated: [] };
  const self = read('/proc/self/cgroup') ?? '';
  const own = /^0::(.*)$/m.exec(self)?.[1] ?? '/';
  const dir = path.join(root, own);
  const controllers = (read(path.join(dir, 'cgroup.controllers')) ?? '').trim().split(/\s+/).filter(Boolean);
  let writable = false;
  try {
    fs.accessSync(path.join(dir, 'cgroup.subtree_control'), fs.constants.W_OK);
    writable = true;
  } catch {
    writable = false;
  }
  return { version: 'v2', ownPath: own, delegated: writable ? controllers : [] };
}

/**
 * The warning for limits asked for: why they cannot be applied here. Where the controllers are
 * delegated, tspod still does not apply them (that needs a cgroup of the container's own, made
 * beside tspod's, which this version does not create) and says so rather than pretend.
 */
export function limitsWarning(wanted: string[], info: CgroupInfo = cgroupInfo()): string | undefined {
  if (wanted.length === 0) return undefined;
  if (info.version === 'v1') {
    return `resource limits (${wanted.join(', ')}) are not supported and ignored on cgroups V1 rootless systems: they need cgroup v2 with delegation (systemd's Delegate=yes for user@.service)`;
  }
  const missing = wanted.filter((c) => !info.delegated.includes(c));
  if (missing.length) {
    return `resource limits (${missing.join(', ')}) are ignored: the ${missing.join(', ')} controller${missing.length > 1 ? 's are' : ' is'} not delegated to ${info.ownPath ?? 'your cgroup'} (systemd's Delegate= for user@.service)`;
  }
  return `resource limits (${wanted.join(', ')}) are ignored: this version of tspod does not apply them yet, although the controllers are delegated`;
}
