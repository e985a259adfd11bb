// Spawning tspod-helper, the static C program that does what Node cannot (flock, namespaces,
// mknod, xattrs, safe *at() writes). See userns-helper/PROTOCOL.md for its verbs.

import * as cp from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TspodError } from './errors';
import { currentMapping, mappingArgs, type IdMapping } from './idmap';
import { OPS_MAGIC, type UnpackReport } from './layer/ops';
import { cacheHome } from './paths';
import { VERSION } from './version';

const HELPER_NAME = 'tspod-helper';
let resolved: string | undefined;

/**
 * The helper's path. In the single executable it is an embedded asset, extracted once per
 * version to a private per-user directory and checked (owner, mode, content hash) before each
 * use, so a copy someone tampered with is never run. Elsewhere it sits next to the build.
 */
export function helperPath(): string {
  if (resolved) return resolved;
  if (process.env.TSPOD_HELPER) return (resolved = process.env.TSPOD_HELPER);
  const embedded = embeddedHelper();
  if (embedded) return (resolved = extractHelper(embedded));
  const candidates = [
    path.join(__dirname, '..', HELPER_NAME), // build/core/helper.js -> build/tspod-helper
    path.join(__dirname, HELPER_NAME), // bundle directory
    path.join(__dirname, '..', '..', 'userns-helper', HELPER_NAME),
  ];
  for (const c of candidates) if (fs.existsSync(c)) return (resolved = c);
  throw new TspodError(`${HELPER_NAME} not found next to ${__dirname}: run "npm run build"`);
}

function embeddedHelper(): Buffer | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sea = require('node:sea') as { isSea(): boolean; getRawAsset(name: string): ArrayBuffer };
    if (!sea.isSea()) return undefined;
    return Buffer.from(sea.getRawAsset(HELPER_NAME));
  } catch {
    return undefined;
  }
}

function extractHelper(content: Buffer): string {
  const hash = crypto.createHash('sha256').update(content).digest('hex');
  const dir = path.join(cacheHome(), 'tspod', `helper-${VERSION}-${hash.slice(0, 16)}`);
  const file = path.join(dir, HELPER_NAME);
  const uid = process.getuid?.() ?? 0;
  if (trusted(file, uid, hash)) return file;
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, content, { mode: 0o700 });
  fs.renameSync(tmp, file);
  if (!trusted(file, uid, hash)) throw new TspodError(`${file}: the extracted helper does not check out; remove ${dir}`);
  return file;
}

function trusted(file: string, uid: number, hash: string): boolean {
  try {
    const st = fs.lstatSync(file);
    const dir = fs.lstatSync(path.dirname(file));
    if (!st.isFile() || st.uid !== uid || (st.mode & 0o022) !== 0) return false;
    if (!dir.isDirectory() || dir.uid !== uid || (dir.mode & 0o077) !== 0) return false;
    return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex') === hash;
  } catch {
    return false;
  }
}

/** Turns a failed helper's stderr into one line: its last line, without the program prefix. */
export function helperMessage(stderr: string, fallback: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const last = lines[lines.length - 1];
  return last ? last.replace(/^tspod-helper: /, '') : fallback;
}

// ---------------------------------------------------------------------------------------------
// Locks

export interface Lock {
  release(): void;
}

/**
 * Takes an exclusive flock on `file`, held by a helper process until release() (or until this
 * process dies: the helper sees its stdin close and exits, so no lock outlives its owner).
 */
export function lockFile(file: string): Promise<Lock> {
  return new Promise((resolve, reject) => {
    const child = cp.spawn(helperPath(), ['lock', file], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let done = false;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (err += d));
    child.stdout.on('data', (d: string) => {
      out += d;
      if (!done && out.includes('locked\n')) {
        done = true;
        // The helper must not keep this process alive, nor die with a signal meant for us.
        child.unref();
        (child.stdout as unknown as { unref?: () => void }).unref?.();
        (child.stderr as unknown as { unref?: () => void }).unref?.();
        (child.stdin as unknown as { unref?: () => void }).unref?.();
        resolve({
          release: () => {
            child.stdin.end();
          },
        });
      }
    });
    child.on('error', (e) => {
      if (!done) reject(new TspodError(`locking ${file}: ${e.message}`));
    });
    child.on('exit', (code) => {
      if (!done) reject(new TspodError(`locking ${file}: ${helperMessage(err, `helper exited with ${code}`)}`));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// User namespace

/**
 * argv that runs `cmd` as root in a user namespace with the user's mapping (directly for root):
 * a new one, or with `join` the one a holder process keeps (see holdUserns).
 */
export function usernsArgv(cmd: string[], opts: { mount?: boolean; mapping?: IdMapping; join?: number } = {}): string[] {
  if ((process.getuid?.() ?? 0) === 0) return cmd;
  const ns = opts.join ? ['--join', String(opts.join)] : mappingArgs(opts.mapping ?? currentMapping());
  return [helperPath(), 'userns', ...ns, ...(opts.mount ? ['--mount'] : []), '--', ...cmd];
}

export interface UsernsHolder {
  /** The holder's pid, for usernsArgv's `join`. */
  pid: number;
  release(): void;
}

/**
 * Starts a process that keeps a user namespace with the user's mapping alive until release()
 * (or until this process dies). Commands that join it skip newuidmap and newgidmap, which a pull
 * of many layers would otherwise run once per layer. Undefined for root, who needs none.
 */
export function holdUserns(mapping: IdMapping = currentMapping()): Promise<UsernsHolder | undefined> {
  if ((process.getuid?.() ?? 0) === 0) return Promise.resolve(undefined);
  const argv = usernsArgv([helperPath(), 'hold'], { mapping });
  return new Promise((resolve, reject) => {
    const child = cp.spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let done = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (done || !out.includes('ready\n')) return;
      done = true;
      child.unref();
      for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void }).unref?.();
      resolve({ pid: child.pid!, release: () => child.stdin.end() });
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdin.on('error', () => undefined);
    child.on('error', (e) => !done && reject(new TspodError(`starting a user namespace: ${e.message}`)));
    child.on('exit', (code) => !done && reject(new TspodError(`starting a user namespace: ${helperMessage(err, `helper exited with ${code}`)}`)));
  });
}

/** Runs a helper verb as root inside the user namespace and collects its output. */
export function runInUserns(verbArgs: string[], input?: Buffer): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = usernsArgv([helperPath(), ...verbArgs]);
  return new Promise((resolve, reject) => {
    const child = cp.spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => reject(new TspodError(`${HELPER_NAME} ${verbArgs[0]}: ${e.message}`)));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** Removes directory trees that may hold files owned by subordinate ids. */
export async function removeTrees(paths: string[]): Promise<void> {
  if (paths.length === 0) return;
  const r = await runInUserns(['rmtree', ...paths]);
  if (r.code !== 0) throw new TspodError(`removing ${paths.join(', ')}: ${helperMessage(r.stderr, `exit ${r.code}`)}`);
}

// ---------------------------------------------------------------------------------------------
// Layer unpacking

export interface Unpacker {
  /** The op stream (magic already written). */
  stream: NodeJS.WritableStream;
  /** Resolves with the helper's report after the 'E' record; rejects on a refused entry. */
  done: Promise<UnpackReport>;
  /** Kills the helper (the caller throws the destination away). */
  abort(): void;
}

/** Starts `tspod-helper unpack DEST` inside the user namespace (a new one, or a held one). */
export function spawnUnpacker(dest: string, opts: { mapping?: IdMapping; join?: number } = {}): Unpacker {
  const m = opts.mapping ?? currentMapping();
  const verb = ['unpack', ...(m.single ? ['--ignore-chown-errors'] : []), dest];
  const argv = usernsArgv([helperPath(), ...verb], { mapping: m, join: opts.join });
  const child = cp.spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.on('error', () => undefined); // a refused entry closes the pipe early; 'close' reports why
  const done = new Promise<UnpackReport>((resolve, reject) => {
    child.on('error', (e) => reject(new TspodError(`${HELPER_NAME} unpack: ${e.message}`)));
    child.on('close', (code, signal) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      let parsed: (UnpackReport & { error?: string; path?: string }) | undefined;
      try {
        parsed = line ? JSON.parse(line) : undefined;
      } catch {
        parsed = undefined;
      }
      if (code === 0 && parsed && !parsed.error) return resolve(parsed);
      if (parsed?.error) {
        return reject(new TspodError(parsed.path ? `entry "${parsed.path}": ${parsed.error}` : parsed.error));
      }
      reject(new TspodError(helperMessage(stderr, signal ? `unpacker killed by ${signal}` : `unpacker exited with ${code}`)));
    });
  });
  child.stdin.write(OPS_MAGIC);
  return { stream: child.stdin, done, abort: () => child.kill('SIGKILL') };
}
