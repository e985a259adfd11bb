// Snapshots of a directory tree, to prove that something (a hostile pull, say) changed nothing
// outside the place it was allowed to write. Symlinks are recorded, never followed.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export type NodeType = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';

export interface NodeFacts {
  type: NodeType;
  /** Permission bits with setuid/setgid/sticky. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  mtimeMs: number;
  /** Hex sha256 of a regular file's content. */
  sha256?: string;
  target?: string;
  rdev?: number;
}

/** Keys are paths relative to the snapshotted directory, '.' for the directory itself. */
export type Snapshot = Map<string, NodeFacts>;

export interface SnapshotOptions {
  /** Skip a path (and, for a directory, everything below it). */
  exclude?: (rel: string) => boolean;
}

function typeOf(st: fs.Stats): NodeType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'socket';
}

function factsOf(abs: string, st: fs.Stats): NodeFacts {
  const type = typeOf(st);
  const facts: NodeFacts = {
    type,
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    size: st.size,
    nlink: st.nlink,
    mtimeMs: st.mtimeMs,
  };
  if (type === 'file') facts.sha256 = crypto.createHash('sha256').update(fs.readFileSync(abs)).digest('hex');
  if (type === 'symlink') facts.target = fs.readlinkSync(abs);
  if (type === 'char' || type === 'block') facts.rdev = st.rdev;
  return facts;
}

export function snapshotTree(dir: string, opts: SnapshotOptions = {}): Snapshot {
  const snap: Snapshot = new Map();
  const walk = (rel: string): void => {
    const abs = rel === '.' ? dir : path.join(dir, rel);
    let st: fs.Stats;
    let names: string[] = [];
    try {
      st = fs.lstatSync(abs);
      snap.set(rel, factsOf(abs, st));
      if (st.isDirectory()) names = fs.readdirSync(abs).sort();
    } catch (err) {
      // Gone between readdir and lstat (a shared directory like /tmp): it is simply not there.
      if (rel !== '.' && (err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const name of names) {
      const child = rel === '.' ? name : path.join(rel, name);
      if (opts.exclude?.(child)) continue;
      walk(child);
    }
  };
  walk('.');
  return snap;
}

export interface Change {
  path: string;
  fields: (keyof NodeFacts)[];
  before: NodeFacts;
  after: NodeFacts;
}

export interface SnapshotDiff {
  added: string[];
  removed: string[];
  changed: Change[];
}

const FIELDS: (keyof NodeFacts)[] = ['type', 'mode', 'uid', 'gid', 'size', 'nlink', 'mtimeMs', 'sha256', 'target', 'rdev'];

/** What differs between two snapshots; `ignore` drops fields from the comparison (e.g. mtimeMs). */
export function diffSnapshots(before: Snapshot, after: Snapshot, ignore: (keyof NodeFacts)[] = []): SnapshotDiff {
  const fields = FIELDS.filter((f) => !ignore.includes(f));
  const diff: SnapshotDiff = { added: [], removed: [], changed: [] };
  for (const [p, a] of after) {
    const b = before.get(p);
    if (!b) {
      diff.added.push(p);
      continue;
    }
    const differing = fields.filter((f) => a[f] !== b[f]);
    if (differing.length) diff.changed.push({ path: p, fields: differing, before: b, after: a });
  }
  for (const p of before.keys()) if (!after.has(p)) diff.removed.push(p);
  return diff;
}

export function isEmptyDiff(d: SnapshotDiff): boolean {
  return d.added.length === 0 && d.removed.length === 0 && d.changed.length === 0;
}

/** One line per difference, for assertion messages. */
export function describeDiff(d: SnapshotDiff): string {
  return [
    ...d.added.map((p) => `added ${p}`),
    ...d.removed.map((p) => `removed ${p}`),
    ...d.changed.map((c) => `changed ${c.path} (${c.fields.join(', ')})`),
  ].join('\n');
}
