// Small file helpers with the store's rule: nothing a user keeps is written in place.

import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Eight random hex digits for temporary names: unique enough next to the pid, and files are
 * created with O_EXCL anyway. (Not node:crypto: loading it costs every command milliseconds.)
 */
export function randomHex8(): string {
  return Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0');
}

/** A temporary name next to `target`, unique to this process, recognisable by cleanup. */
export function tempName(target: string): string {
  return `${target}.tmp-${process.pid}-${randomHex8()}`;
}

/** Writes a whole file atomically: temporary name, fsync (unless told not to), rename. */
export function writeFileAtomic(target: string, data: string | Uint8Array, mode = 0o644, sync = true): void {
  const tmp = tempName(target);
  const fd = fs.openSync(tmp, 'wx', mode);
  try {
    fs.writeFileSync(fd, data);
    if (sync) fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

export function writeJsonAtomic(target: string, value: unknown, mode = 0o644, sync = true): void {
  writeFileAtomic(target, JSON.stringify(value, null, 1) + '\n', mode, sync);
}

/** Parsed JSON of a file, or `fallback` when the file does not exist. */
export function readJson<T>(file: string, fallback: T): T {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw err;
  }
  return JSON.parse(text) as T;
}

export function mkdirp(dir: string, mode = 0o700): void {
  fs.mkdirSync(dir, { recursive: true, mode });
}

/** fsyncs a directory so that a rename into it survives a crash. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** True if a process with this pid exists (it may belong to another user). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid embedded by tempName() in a name, or undefined. */
export function tempOwnerPid(name: string): number | undefined {
  const m = /\.tmp-(\d+)-[0-9a-f]{8}$/.exec(name) ?? /^(\d+)-[0-9a-f]{8}/.exec(path.basename(name));
  return m ? Number(m[1]) : undefined;
}
