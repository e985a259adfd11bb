// What the image end-to-end suites share: reading a store as root (the user's view of it is
// tspod's output, the disk is the truth), one-line error checks, and comparing unpacked layers
// with the fixture facts. Not a test file: uvu loads only *.test.js.

import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as assert from 'uvu/assert';
import type { ImageRecord } from '../../core/store/store';
import { FileFact, ManifestFact, RunResult, userInfo } from '../lib';

/** An image record as tspod keeps it in STORE/images.json. */
export type StoredImage = ImageRecord;

export function storedImages(store: string): StoredImage[] {
  const file = path.join(store, 'images.json');
  if (!fs.existsSync(file)) return [];
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { images: StoredImage[] }).images;
}

export function layerDir(store: string, diffId: string): string {
  return path.join(store, 'layers', diffId.replace(/^sha256:/, ''));
}

export function layerDiff(store: string, diffId: string): string {
  return path.join(layerDir(store, diffId), 'diff');
}

/** diff_ids of the layers present in the store (directories under layers/). */
export function storedLayers(store: string): string[] {
  const dir = path.join(store, 'layers');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).map((h) => `sha256:${h}`).sort();
}

export function tmpEntries(store: string): string[] {
  const dir = path.join(store, 'tmp');
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

export function lines(s: string): string[] {
  return s.split('\n').filter((l) => l.trim() !== '');
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** The architecture name images use for this machine. */
export function hostArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? process.arch;
}

/** Everything a command printed, for assertion messages. */
export function show(r: RunResult): string {
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

/**
 * A failed command as a user should see it: the exit code, exactly one `Error:` line matching
 * `pattern` (progress lines may come before it), and nothing that looks like a stack trace.
 */
export function assertOneLineError(r: RunResult, pattern: RegExp, code = 125): string {
  assert.is(r.code, code, show(r));
  const errors = lines(r.stderr).filter((l) => l.startsWith('Error: '));
  assert.is(errors.length, 1, `one Error: line\n${show(r)}`);
  assert.match(errors[0], pattern, show(r));
  assert.not.match(r.stderr, /^\s+at .+[(:]\d+/m, `no stack trace\n${show(r)}`);
  assert.not.match(r.stderr, /\b(TypeError|ReferenceError|RangeError|SyntaxError|AssertionError)\b/, show(r));
  return errors[0];
}

// ---------------------------------------------------------------------------------------------
// Unpacked layers against the fixture facts

/** Where an id inside the user namespace lands on the host, for the user's mapping. */
export function hostIds(user: string, uid: number, gid: number): { uid: number; gid: number } {
  const info = userInfo(user);
  const map = (id: number, own: number, ranges: { start: number; count: number }[]) => {
    if (id === 0 || ranges.length === 0) return own; // single mapping: everything is the user
    let next = 1;
    for (const r of ranges) {
      if (id >= next && id < next + r.count) return r.start + (id - next);
      next += r.count;
    }
    throw new Error(`id ${id} is not mapped for ${user}`);
  };
  return { uid: map(uid, info.uid, info.subuid), gid: map(gid, info.gid, info.subgid) };
}

/** Directories that carry the overlay opaque marker (user.overlay.opaque=y), per layer, relative ('/opt/cache'). */
export function opaqueDirs(diffs: string[]): Set<string>[] {
  const script = [
    'import os, sys, json',
    'out = []',
    'for root in sys.argv[1:]:',
    '    found = []',
    '    for d, dirs, files in os.walk(root):',
    '        try:',
    "            if os.getxattr(d, 'user.overlay.opaque', follow_symlinks=False) == b'y':",
    "                found.append('/' + os.path.relpath(d, root))",
    '        except OSError:',
    '            pass',
    '    out.append(found)',
    'print(json.dumps(out))',
  ].join('\n');
  const r = spawnSync('python3', ['-c', script, ...diffs], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3 getxattr walk: ${r.stderr}`);
  return (JSON.parse(r.stdout) as string[][]).map((l) => new Set(l));
}

export function isWhiteout(st: fs.Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/**
 * Resolves `p` through the layer directories (bottom first) the way overlayfs does: the topmost
 * layer that has it wins; a whiteout (0/0 char device) of it or of a parent hides it, and so
 * does an opaque parent directory for the layers below. Returns the layer's index.
 */
export function resolveOverlay(diffs: string[], opaque: Set<string>[], p: string): number | undefined {
  const parts = p.split('/').filter(Boolean);
  for (let i = diffs.length - 1; i >= 0; i--) {
    let stopBelow = false;
    for (let k = 1; k <= parts.length; k++) {
      const rel = '/' + parts.slice(0, k).join('/');
      let st: fs.Stats;
      try {
        st = fs.lstatSync(path.join(diffs[i], rel));
      } catch {
        break;
      }
      if (isWhiteout(st)) return undefined;
      if (k === parts.length) return i;
      if (!st.isDirectory()) break;
      if (opaque[i].has(rel)) stopBelow = true;
    }
    if (stopBelow) return undefined;
  }
  return undefined;
}

/** The image's layer directories, bottom first. */
export function imageDiffs(store: string, image: ManifestFact): string[] {
  return image.diffIds.map((d) => layerDiff(store, d));
}

export const FIXTURE_MTIME = Date.parse('2024-01-01T00:00:00Z') / 1000;

/**
 * Every path of the fixture's tree, looked up in the unpacked layers: type, permission bits
 * (setuid included), owner mapped to the host for `user`, size, content, symlink target, the
 * inode a hardlink shares, and the fixed mtime of files and symlinks. Returns the mismatches.
 *
 * A directory that a layer only implies (a file below it, no entry of its own) is created by the
 * unpacker as root 0755, as podman does, and overlayfs shows that one; its recorded attributes
 * are checked in the topmost layer that has an entry for it.
 */
export function compareTree(store: string, image: ManifestFact, user: string): string[] {
  const diffs = imageDiffs(store, image);
  const opaque = opaqueDirs(diffs);
  const explicit = image.layers.map((l) =>
    l.entries ? new Set(l.entries.map((e) => '/' + e.name.replace(/^(\.\/|\/)+/, '').replace(/\/$/, ''))) : undefined,
  );
  const bad: string[] = [];
  const found = new Map<string, string>();
  for (const f of image.files ?? []) {
    let layer = resolveOverlay(diffs, opaque, f.path);
    if (layer === undefined) {
      bad.push(`${f.path}: missing`);
      continue;
    }
    if (f.type === 'dir') {
      const named = (i: number) => fs.existsSync(path.join(diffs[i], f.path)) && (!explicit[i] || explicit[i]!.has(f.path));
      while (layer > 0 && !named(layer)) layer--;
    }
    const abs = path.join(diffs[layer], f.path);
    found.set(f.path, abs);
    bad.push(...compareFile(abs, f, user));
  }
  for (const f of image.files ?? []) {
    if (!f.linkTo) continue;
    const a = found.get(f.path);
    const b = found.get(f.linkTo);
    if (a && b && fs.lstatSync(a).ino !== fs.lstatSync(b).ino) bad.push(`${f.path}: not a hardlink of ${f.linkTo}`);
  }
  return bad;
}

function compareFile(abs: string, f: FileFact, user: string): string[] {
  const bad: string[] = [];
  const st = fs.lstatSync(abs);
  const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
  if (type !== f.type) return [`${f.path}: ${type}, want ${f.type}`];
  if ((st.mode & 0o7777) !== f.mode) bad.push(`${f.path}: mode ${(st.mode & 0o7777).toString(8)}, want ${f.mode.toString(8)}`);
  const want = hostIds(user, f.uid, f.gid);
  if (st.uid !== want.uid || st.gid !== want.gid) bad.push(`${f.path}: owner ${st.uid}:${st.gid}, want ${want.uid}:${want.gid}`);
  if (f.type === 'file') {
    if (st.size !== f.size) bad.push(`${f.path}: size ${st.size}, want ${f.size}`);
    else if (f.sha256 && sha256File(abs) !== f.sha256) bad.push(`${f.path}: content differs`);
  }
  if (f.type === 'symlink' && fs.readlinkSync(abs) !== f.target) bad.push(`${f.path}: -> ${fs.readlinkSync(abs)}, want ${f.target}`);
  if (f.type !== 'dir' && Math.floor(st.mtimeMs / 1000) !== FIXTURE_MTIME) {
    bad.push(`${f.path}: mtime ${new Date(st.mtimeMs).toISOString()}, want 2024-01-01`);
  }
  return bad;
}

function sha256File(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Paths under `dir` (not following symlinks) owned by a uid or gid in [lo, hi). */
export function ownedInRange(dir: string, lo: number, hi: number): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const st = fs.lstatSync(p);
    if ((st.uid >= lo && st.uid < hi) || (st.gid >= lo && st.gid < hi)) out.push(p);
    if (st.isDirectory()) for (const n of fs.readdirSync(p)) walk(path.join(p, n));
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}
