// The container's /etc/passwd and /etc/group as tspod reads them without running it: from its
// writable layer and the image's layers, the way the helper resolves -u inside the container.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Store } from '../store/store';
import type { Container } from './record';

export interface IdEntry {
  name: string;
  id: number;
  gid?: number;
  home?: string;
}

/** Entries of an /etc/passwd (withGid: its gid and home fields too) or /etc/group. */
export function parseIdFile(text: string, withGid: boolean): IdEntry[] {
  const out: IdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3 || line.startsWith('#')) continue;
    const id = Number(f[2]);
    if (!Number.isInteger(id)) continue;
    out.push({
      name: f[0],
      id,
      gid: withGid && f.length > 3 && f[3] !== '' ? Number(f[3]) : undefined,
      home: withGid && f.length > 5 && f[5] !== '' ? f[5] : undefined,
    });
  }
  return out;
}

/**
 * A file of the container's root file system as it stands: its writable layer first, then the
 * image's layers from the top. Symbolic links are not followed (they would lead into the host).
 */
export function readContainerFile(store: Store, c: Container, rel: string, layers: string[]): string | undefined {
  const dirs = [path.join(c.dir, 'upper'), ...[...layers].reverse().map((l) => store.layerDiffPath(l))];
  for (const d of dirs) {
    const p = path.join(d, rel);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      continue;
    }
    // A whiteout (character device 0/0) or anything but a plain file hides the lower layers' copy.
    if (!st.isFile()) return undefined;
    try {
      return fs.readFileSync(p, 'utf8');
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * HOME as the helper sets it for `-u USER[:GROUP]` (empty: root): the user's entry of the
 * container's /etc/passwd, or / when there is none.
 */
export function homeDirectory(user: string, passwd: string | undefined): string {
  const u = user.split(':', 1)[0];
  const users = parseIdFile(passwd ?? '', true);
  const entry = u === '' ? users.find((e) => e.id === 0) : /^\d+$/.test(u) ? users.find((e) => e.id === Number(u)) : users.find((e) => e.name === u);
  return entry?.home ?? '/';
}
