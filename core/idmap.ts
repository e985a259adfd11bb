// The user's id mappings, as rootless podman builds them: container 0 is the user, and 1..N are
// the subordinate ids that /etc/subuid and /etc/subgid grant. Without a range (or without
// newuidmap/newgidmap), a single-uid mapping: only 0 exists inside, and ownership collapses.

import * as fs from 'node:fs';
import * as os from 'node:os';

export interface IdRange {
  /** First id inside the namespace. */
  container: number;
  /** First id on the host. */
  host: number;
  size: number;
}

export interface IdMapping {
  uids: IdRange[];
  gids: IdRange[];
  /** True when only the user's own id is mapped. */
  single: boolean;
  /** Why the mapping is single, for the one-line warning. */
  reason?: string;
}

export interface SubIdEntry {
  start: number;
  count: number;
}

/** Parses /etc/subuid-format text: `name-or-uid:start:count` per line, `#` comments. */
export function parseSubIds(text: string, user: string, uid: number): SubIdEntry[] {
  const out: SubIdEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [who, start, count] = line.split(':');
    if (who !== user && who !== String(uid)) continue;
    const s = Number(start);
    const c = Number(count);
    if (Number.isSafeInteger(s) && Number.isSafeInteger(c) && s >= 0 && c > 0) out.push({ start: s, count: c });
  }
  return out;
}

/** Builds the mapping: 0 -> own id, then the subordinate ranges from 1 upwards. */
export function buildMapping(uid: number, gid: number, subuids: SubIdEntry[], subgids: SubIdEntry[], tools: boolean): IdMapping {
  const single = (reason: string): IdMapping => ({
    uids: [{ container: 0, host: uid, size: 1 }],
    gids: [{ container: 0, host: gid, size: 1 }],
    single: true,
    reason,
  });
  if (uid === 0) {
    // Real root needs no subordinate ids: the identity mapping of the whole range.
    const all = [{ container: 0, host: 0, size: 4294967295 }];
    return { uids: all, gids: all, single: false };
  }
  if (subuids.length === 0 || subgids.length === 0) return single('no subordinate ids in /etc/subuid and /etc/subgid');
  if (!tools) return single('newuidmap and newgidmap are not installed (package uidmap)');
  const ranges = (own: number, subs: SubIdEntry[]): IdRange[] => {
    const r: IdRange[] = [{ container: 0, host: own, size: 1 }];
    let next = 1;
    for (const s of subs) {
      r.push({ container: next, host: s.start, size: s.count });
      next += s.count;
    }
    return r;
  };
  return { uids: ranges(uid, subuids), gids: ranges(gid, subgids), single: false };
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function findTool(name: string): boolean {
  for (const dir of (process.env.PATH || '/usr/local/bin:/usr/bin:/bin').split(':').concat(['/usr/bin', '/usr/sbin'])) {
    try {
      fs.accessSync(`${dir}/${name}`, fs.constants.X_OK);
      return true;
    } catch {
      // keep looking
    }
  }
  return false;
}

let cached: IdMapping | undefined;

/** The current user's mapping, read once per process. TSPOD_SINGLE_UID=1 forces the fallback. */
export function currentMapping(): IdMapping {
  if (cached) return cached;
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  let user = '';
  try {
    user = os.userInfo().username;
  } catch {
    user = process.env.USER ?? '';
  }
  if (process.env.TSPOD_SINGLE_UID === '1' && uid !== 0) {
    cached = buildMapping(uid, gid, [], [], true);
    cached.reason = 'TSPOD_SINGLE_UID=1 is set';
    return cached;
  }
  const subuids = parseSubIds(readOrEmpty('/etc/subuid'), user, uid);
  const subgids = parseSubIds(readOrEmpty('/etc/subgid'), user, uid);
  cached = buildMapping(uid, gid, subuids, subgids, findTool('newuidmap') && findTool('newgidmap'));
  return cached;
}

/** `--uidmap C:H:N ... --gidmap C:H:N ...` for the helper. */
export function mappingArgs(m: IdMapping): string[] {
  const args: string[] = [];
  for (const r of m.uids) args.push('--uidmap', `${r.container}:${r.host}:${r.size}`);
  for (const r of m.gids) args.push('--gidmap', `${r.container}:${r.host}:${r.size}`);
  return args;
}

/** Maps an id inside the namespace to the host id, or undefined when it is not mapped. */
export function toHost(ranges: IdRange[], id: number): number | undefined {
  for (const r of ranges) if (id >= r.container && id < r.container + r.size) return r.host + (id - r.container);
  return undefined;
}
