// `cp`: files between a container and the host (or two containers), with podman's rules for
// existing and missing destinations, trailing slashes and `SRC/.`, and `-` for a tar archive on
// stdin or stdout.
//
// Every path inside a container is resolved by `tspod-helper copy` with the container's root as
// its own root (PROTOCOL.md, "copy"): a running container's namespaces are joined, a stopped
// container's overlay is mounted privately, and symlinks are followed inside that root only. The
// container's files come out as an op stream; on the host the unprivileged `unpack` writer puts
// them beneath the destination (owned by the user), and the host's files go in as an op stream
// written beneath the container's root. So no path, whatever the container's symlinks say, reads
// or writes outside the container's root, or outside the destination on the host.

import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { TspodError } from '../errors';
import { helperMessage, helperPath, usernsArgv } from '../helper';
import { detectCompression, ZstdFrameSplitter } from '../layer/compression';
import { OpWriter } from '../layer/op-writer';
import { OPS_MAGIC, type UnpackReport } from '../layer/ops';
import { TarToOps } from '../layer/tar-ops';
import type { Store } from '../store/store';
import { drain, joinOpPath, opPathOf, OpsToTar, RebasedOpWriter, writeHostTree, type OpSinkLike } from './copy-stream';
import { requireContainer, type Container } from './record';
import { containerMapping } from './spec';

export interface CopyEnd {
  /** The container's name or ID; undefined for the host. */
  container?: string;
  path: string;
}

/** podman's reading of a cp argument: `CONTAINER:PATH`, unless it starts with `.` or `/`. */
export function parseCopyArg(arg: string): CopyEnd {
  if (arg === '' || arg.startsWith('.') || arg.startsWith('/')) return { path: arg };
  const colon = arg.indexOf(':');
  return colon < 0 ? { path: arg } : { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

/** `DIR/.` (or `.`): the contents of DIR, not DIR itself. */
export function meansContents(p: string): boolean {
  return p === '.' || p.endsWith('/.');
}

/** A container path as the helper takes it: absolute (relative ones start at the working directory), clean. */
export function containerPath(p: string, workdir: string): string {
  return path.posix.resolve('/', workdir || '/', p);
}

export interface PathInfo {
  type: 'dir' | 'file' | 'other' | 'missing';
  /** For a missing path: its parent directory exists. */
  parent: boolean;
  /** Where it resolved to, symlinks followed inside the container ('' when its parent is missing). */
  path: string;
}

export interface Placement {
  /** The directory (container path, or host path) the copy goes into. */
  dir: string;
  /** The name of the top entry there; '' puts a directory's contents into `dir` itself. */
  name: string;
}

/**
 * Where a source goes in a destination that `dst` describes (podman's and docker's rules): into
 * an existing directory under its own name (its contents for `SRC/.`), over an existing file,
 * or under the destination's name when that does not exist yet but its parent does.
 */
export function placeInContainer(src: { isDir: boolean; name: string; contents: boolean }, dstArg: string, dst: PathInfo, ctr: string): Placement {
  if (dst.type === 'dir') return { dir: dst.path, name: src.isDir && src.contents ? '' : src.name };
  if (dst.type !== 'missing') {
    if (src.isDir) throw new TspodError('destination must be a directory when copying a directory');
    return { dir: path.posix.dirname(dst.path), name: path.posix.basename(dst.path) };
  }
  if (dstArg.endsWith('/') || !dst.parent) throw new TspodError(`"${dstArg}" could not be found on container ${ctr}: no such file or directory`);
  return { dir: path.posix.dirname(dst.path), name: path.posix.basename(dst.path) };
}

/** The same rules on the host, where the destination's symlinks are the user's own to follow. */
export function placeOnHost(src: { isDir: boolean; name: string; contents: boolean }, dstArg: string, cwd: string): Placement {
  const abs = path.resolve(cwd, dstArg);
  let real: string | undefined;
  try {
    real = fs.realpathSync(abs);
  } catch {
    real = undefined;
  }
  if (real !== undefined) {
    const st = fs.statSync(real);
    if (st.isDirectory()) return { dir: real, name: src.isDir && src.contents ? '' : src.name };
    if (!st.isFile()) throw new TspodError(`invalid destination: "${real}" must be a directory or a regular file`);
    if (src.isDir) throw new TspodError('destination must be a directory when copying a directory');
    return { dir: path.dirname(real), name: path.basename(real) };
  }
  const missing = new TspodError(`"${dstArg}" could not be found on the host: no such file or directory`);
  if (dstArg.endsWith('/')) throw missing;
  let parent: string;
  try {
    parent = fs.realpathSync(path.dirname(abs));
  } catch {
    throw missing;
  }
  if (!fs.statSync(parent).isDirectory()) throw missing;
  return { dir: parent, name: path.basename(abs) };
}

// ---------------------------------------------------------------------------------------------
// The helper

/** argv of `tspod-helper copy` with the container's root: joined when it runs, mounted when not. */
function copyArgv(store: Store, c: Container, verb: string[]): string[] {
  const helper = helperPath();
  if ((c.state.status === 'running' || c.state.status === 'stopping') && c.state.pid) {
    return [helper, 'copy', '--pid', String(c.state.pid), ...(c.state.monitorPid ? ['--ppid', String(c.state.monitorPid)] : []), ...verb];
  }
  const image = store.images().find((i) => i.id === c.config.image);
  if (!image) throw new TspodError(`image ${c.config.image.slice(0, 12)} of container ${c.config.name} is not in the store any more`);
  const cmd = [helper, 'copy'];
  for (const l of [...image.layers].reverse()) cmd.push('--lower', store.layerDiffPath(l));
  cmd.push('--upper', path.join(c.dir, 'upper'), '--work', path.join(c.dir, 'work'), '--merged', path.join(c.dir, 'merged'), ...verb);
  // The overlay is mounted in a mount namespace of the helper's own, never the caller's.
  if ((process.getuid?.() ?? 0) === 0) return ['unshare', '--mount', '--propagation', 'private', ...cmd];
  return usernsArgv(cmd, { mount: true, mapping: containerMapping(c.config) });
}

interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** A helper with stdout and stderr piped; its stdin a pipe, nothing, or another helper's stdout. */
function spawn(argv: string[], stdin: 'pipe' | 'ignore' | Readable): cp.ChildProcess {
  return cp.spawn(argv[0], argv.slice(1), { stdio: [stdin, 'pipe', 'pipe'] });
}

/** Waits for a helper; its stdout is collected unless `streamed` (someone else reads it). */
function finished(child: cp.ChildProcess, streamed = false): Promise<Finished> {
  let stdout = '';
  let stderr = '';
  if (!streamed) child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', (e) => reject(new TspodError(`starting the helper: ${e.message}`)));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

function helperFailure(r: Finished, what: string): TspodError {
  return new TspodError(helperMessage(r.stderr, `${what} failed (exit ${r.code})`));
}

/** The writer's report, or its refusal as an error naming the entry (a container path). */
function unpackOutcome(r: Finished, what: string): UnpackReport {
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let parsed: (UnpackReport & { error?: string; path?: string }) | undefined;
  try {
    parsed = line ? JSON.parse(line) : undefined;
  } catch {
    parsed = undefined;
  }
  if (r.code === 0 && parsed && !parsed.error) return parsed;
  if (parsed?.error) {
    const where = parsed.path && !parsed.error.includes(parsed.path) ? `${parsed.path}: ` : '';
    throw new TspodError(`${what}: ${where}${parsed.error}`);
  }
  throw helperFailure(r, what);
}

async function statPath(store: Store, c: Container, p: string): Promise<PathInfo> {
  const r = await finished(spawn(copyArgv(store, c, ['stat', p]), 'ignore'));
  if (r.code !== 0) throw helperFailure(r, `looking up ${p} in container ${c.config.name}`);
  return JSON.parse(r.stdout.trim()) as PathInfo;
}

function inVerb(c: Container): string[] {
  // Without subordinate ids only root exists inside: other owners become root.
  return ['in', ...(containerMapping(c.config).single ? ['--ignore-chown-errors'] : [])];
}

/** Starts the writer into the container and hands its input to `produce` (magic written). */
async function intoContainer(store: Store, c: Container, produce: (sink: OpSinkLike) => Promise<void>): Promise<UnpackReport> {
  const child = spawn(copyArgv(store, c, inVerb(c)), 'pipe');
  const result = finished(child);
  const failed = result.then((r) => {
    unpackOutcome(r, `copying into container ${c.config.name}`);
    throw new TspodError(`copying into container ${c.config.name}: the writer stopped before the end of the copy`);
  });
  failed.catch(() => undefined);
  child.stdin!.on('error', () => undefined);
  child.stdin!.write(OPS_MAGIC);
  try {
    await produce({ stream: child.stdin!, failed });
  } catch (err) {
    child.kill('SIGKILL');
    const r = await result;
    // The writer's own words say more than the broken pipe that followed them.
    if (r.code !== 0 && r.code !== 128) unpackOutcome(r, `copying into container ${c.config.name}`);
    throw err;
  }
  child.stdin!.end();
  return unpackOutcome(await result, `copying into container ${c.config.name}`);
}

// ---------------------------------------------------------------------------------------------
// The three directions

export interface CopyOptions {
  /** -a: keep the owners (uid/gid) of what is copied in, instead of the container's root. */
  archive: boolean;
  cwd: string;
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  warn(message: string): void;
}

function notInContainer(arg: string, c: Container): TspodError {
  return new TspodError(`"${arg}" could not be found on container ${c.config.name}: no such file or directory`);
}

function reportSkips(report: UnpackReport, o: CopyOptions): void {
  if (report.devicesSkipped > 0) o.warn(`skipped ${report.devicesSkipped} device node(s): they cannot be created without privileges`);
  for (const w of report.warnings ?? []) o.warn(w);
}

/** The tree at `p` in the container, stat'ed: what a source needs to be placed. */
async function containerSource(store: Store, c: Container, arg: string): Promise<{ info: PathInfo; src: { isDir: boolean; name: string; contents: boolean } }> {
  const info = await statPath(store, c, containerPath(arg, c.config.workdir));
  if (info.type === 'missing') throw notInContainer(arg, c);
  const isDir = info.type === 'dir';
  // The root has no name of its own: it is copied as its contents.
  const contents = isDir && (meansContents(arg) || info.path === '/');
  return { info, src: { isDir, name: info.path === '/' ? '' : path.posix.basename(info.path), contents } };
}

async function fromContainer(store: Store, c: Container, arg: string, dstArg: string, o: CopyOptions): Promise<void> {
  const { info, src } = await containerSource(store, c, arg);
  if (dstArg === '-') {
    const out = spawn(copyArgv(store, c, ['out', info.path, src.contents ? '' : src.name]), 'ignore');
    const result = finished(out, true);
    try {
      await pipeline(out.stdout!, new OpsToTar(), o.stdout, { end: false });
    } catch (err) {
      const r = await result;
      if (r.code !== 0) throw helperFailure(r, `copying from container ${c.config.name}`);
      throw err;
    }
    const r = await result;
    if (r.code !== 0) throw helperFailure(r, `copying from container ${c.config.name}`);
    return;
  }
  const place = placeOnHost(src, dstArg, o.cwd);
  const owner = `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`;
  const out = spawn(copyArgv(store, c, ['out', '--owner', owner, info.path, place.name]), 'ignore');
  const outResult = finished(out, true);
  // The user's own writer, unprivileged, contained beneath the destination directory.
  const writer = spawn([helperPath(), 'unpack', '--cross-mounts', '--no-overwrite-dir-nondir', place.dir], out.stdout!);
  out.stdout!.destroy();
  const [ro, rw] = await Promise.all([outResult, finished(writer)]);
  if (ro.code !== 0) throw helperFailure(ro, `copying from container ${c.config.name}`);
  reportSkips(unpackOutcome(rw, `copying to ${place.dir}`), o);
}

async function* decompressed(input: NodeJS.ReadableStream): AsyncGenerator<Buffer> {
  const it = (input as unknown as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let got = 0;
  let r = await it.next();
  for (; !r.done && got < 4; r = await it.next()) {
    const b = Buffer.from(r.value);
    head.push(b);
    got += b.length;
    if (got >= 4) break;
  }
  const rest = async function* (): AsyncGenerator<Buffer> {
    yield* head;
    if (r.done) return;
    for (r = await it.next(); !r.done; r = await it.next()) yield Buffer.from(r.value);
  };
  const kind = detectCompression(Buffer.concat(head));
  if (kind === 'none') {
    yield* rest();
  } else if (kind === 'gzip') {
    yield* Readable.from(rest()).pipe(zlib.createGunzip());
  } else {
    // Node's zstd decoder keeps every frame only when no write runs past the end of one.
    const splitter = new ZstdFrameSplitter();
    const frames = async function* (): AsyncGenerator<Buffer> {
      for await (const chunk of rest()) yield* splitter.split(chunk);
      splitter.end();
    };
    yield* Readable.from(frames()).pipe(zlib.createZstdDecompress());
  }
}

async function tarIntoContainer(store: Store, c: Container, dst: PathInfo, o: CopyOptions): Promise<UnpackReport> {
  return intoContainer(store, c, async (sink) => {
    const writer = new RebasedOpWriter(sink.stream, opPathOf(dst.path), o.archive ? undefined : { uid: 0, gid: 0 });
    const tar = new TarToOps(writer, { warn: (_key, message) => o.warn(message) });
    try {
      for await (const chunk of decompressed(o.stdin)) {
        tar.push(chunk);
        if (writer.pending >= 64 * 1024 || writer.blocked) await drain(writer, sink);
      }
      tar.end();
    } catch (err) {
      if (err instanceof TspodError && /^not a tar archive/.test(err.message)) {
        throw new TspodError('source must be a (compressed) tar archive when copying from stdin');
      }
      throw err;
    }
    writer.op({ kind: 'E', path: '' });
    await drain(writer, sink);
  });
}

async function toContainer(store: Store, c: Container, hostArg: string, arg: string, o: CopyOptions): Promise<void> {
  const dst = await statPath(store, c, containerPath(arg, c.config.workdir));
  if (hostArg === '-') {
    if (dst.type !== 'dir') throw new TspodError('destination must be a directory when copying from stdin');
    reportSkips(await tarIntoContainer(store, c, dst, o), o);
    return;
  }
  let real: string;
  try {
    real = fs.realpathSync(path.resolve(o.cwd, hostArg));
  } catch {
    throw new TspodError(`"${hostArg}" could not be found on the host: no such file or directory`);
  }
  const isDir = fs.statSync(real).isDirectory();
  const place = placeInContainer({ isDir, name: path.basename(real), contents: meansContents(hostArg) }, arg, dst, c.config.name);
  const top = joinOpPath(opPathOf(place.dir), Buffer.from(place.name, 'utf8').toString('latin1'));
  const report = await intoContainer(store, c, async (sink) => {
    const writer = new OpWriter(sink.stream);
    const owner = o.archive ? ('keep' as const) : { uid: 0, gid: 0 };
    await writeHostTree(Buffer.from(real), top, writer, sink, { owner, warn: o.warn }, place.name === '');
    writer.op({ kind: 'E', path: '' });
    await drain(writer, sink);
  });
  reportSkips(report, o);
}

async function betweenContainers(store: Store, a: Container, aArg: string, b: Container, bArg: string, o: CopyOptions): Promise<void> {
  const { info, src } = await containerSource(store, a, aArg);
  const dst = await statPath(store, b, containerPath(bArg, b.config.workdir));
  const place = placeInContainer(src, bArg, dst, b.config.name);
  const name = [place.dir.replace(/^\/+/, ''), place.name].filter(Boolean).join('/');
  const out = spawn(copyArgv(store, a, ['out', ...(o.archive ? [] : ['--owner', '0:0']), info.path, name]), 'ignore');
  const outResult = finished(out, true);
  const writer = spawn(copyArgv(store, b, inVerb(b)), out.stdout!);
  out.stdout!.destroy();
  const [ro, rw] = await Promise.all([outResult, finished(writer)]);
  if (ro.code !== 0) throw helperFailure(ro, `copying from container ${a.config.name}`);
  reportSkips(unpackOutcome(rw, `copying into container ${b.config.name}`), o);
}

/** `tspod cp SRC DST`: one of them (or both) `CONTAINER:PATH`, `-` for a tar stream. */
export async function copyFiles(store: Store, srcArg: string, dstArg: string, o: CopyOptions): Promise<void> {
  const src = parseCopyArg(srcArg);
  const dst = parseCopyArg(dstArg);
  if (src.container !== undefined && dst.container !== undefined) {
    return betweenContainers(store, requireContainer(store, src.container), src.path, requireContainer(store, dst.container), dst.path, o);
  }
  if (src.container !== undefined) return fromContainer(store, requireContainer(store, src.container), src.path, dstArg, o);
  if (dst.container !== undefined) return toContainer(store, requireContainer(store, dst.container), srcArg, dst.path, o);
  throw new TspodError(`invalid arguments ${srcArg}, ${dstArg}: one of them must be CONTAINER:PATH`);
}
