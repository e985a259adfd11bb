// Driving `tspod-helper run` as a test user: a busybox root file system to run, the configuration
// encoded as tspod encodes it (core/container/helper-config), the helper spawned with fd 3
// (configuration) and fd 4 (status lines), a pty driver that can also resize, and a client for a
// detached container's attach socket.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import {
  DEFAULT_CAPS,
  encodeRunConfig,
  MASKED_PATHS,
  READONLY_PATHS,
  type RunConfig,
} from '../../core/container/helper-config';
import { HELPER, mappingFor, userTempDir } from './helper-util';
import { withPty, type PtyStep } from './pty';
import { userEnv } from './run';
import { userInfo } from './users';

export const BUSYBOX = '/bin/busybox';
export const CONTAINER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * A layer directory with the host's static busybox, a symlink per applet in /bin, and /etc/passwd
 * and /etc/group naming root, `user` (1000) and a group `extra` (1234) that lists `user`. Everything
 * belongs to `user` on the host, which is root in the container's namespace.
 */
export function busyboxLayer(user: string): string {
  const u = userInfo(user);
  const dir = userTempDir(user, 'layer');
  const put = (rel: string, mode: number, content?: Buffer | string): void => {
    const p = path.join(dir, rel);
    if (content === undefined) fs.mkdirSync(p, { recursive: true });
    else fs.writeFileSync(p, content);
    fs.chmodSync(p, mode);
    fs.lchownSync(p, u.uid, u.gid);
  };
  for (const d of ['bin', 'etc', 'home', 'root']) put(d, 0o755);
  put('tmp', 0o1777);
  put('bin/busybox', 0o755, fs.readFileSync(BUSYBOX));
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const a of applets) {
    if (a === 'busybox') continue;
    fs.symlinkSync('busybox', path.join(dir, 'bin', a));
    fs.lchownSync(path.join(dir, 'bin', a), u.uid, u.gid);
  }
  put('etc/passwd', 0o644, 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n');
  put('etc/group', 0o644, 'root:x:0:\nuser:x:1000:\nextra:x:1234:user\n');
  return dir;
}

/** upper, work and merged for one container, owned by the user. */
export function containerDirs(user: string): { root: string; upper: string; work: string; merged: string } {
  const u = userInfo(user);
  const root = userTempDir(user, 'ctr');
  const out = { root, upper: path.join(root, 'upper'), work: path.join(root, 'work'), merged: path.join(root, 'merged') };
  for (const d of [out.upper, out.work, out.merged]) {
    fs.mkdirSync(d, { mode: 0o755 });
    fs.chownSync(d, u.uid, u.gid);
  }
  return out;
}

/** What tspod would send for `tspod run IMAGE ARGS...` as `user`, with fresh container dirs. */
export function runConfig(user: string, layer: string, args: string[], over: Partial<RunConfig> = {}): RunConfig {
  const m = mappingFor(user);
  const d = containerDirs(user);
  return {
    id: 'helper-run-test',
    lower: [layer],
    upper: d.upper,
    work: d.work,
    merged: d.merged,
    uidmap: m.uids,
    gidmap: m.gids,
    hostname: 'testctr',
    cwd: '/',
    user: '',
    env: [`PATH=${CONTAINER_PATH}`, 'HOSTNAME=testctr'],
    args,
    caps: DEFAULT_CAPS,
    noNewPrivs: true,
    mounts: [],
    masked: MASKED_PATHS,
    readonlyPaths: READONLY_PATHS,
    net: 'none',
    ...over,
  };
}

export interface HelperRun {
  child: ChildProcess;
  /** The helper's own pid (setpriv execs it). */
  pid: number;
  stdout(): string;
  stderr(): string;
  /** Parsed fd 4 lines so far. */
  status(): Record<string, unknown>[];
  waitFor(text: string, ms: number, stream?: 'stdout' | 'stderr'): Promise<boolean>;
  /** The container's host pid from the first status line, once it is there (undefined after ms). */
  containerPid(ms: number): Promise<number | undefined>;
  exited: Promise<HelperResult>;
}

export interface HelperResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  status: Record<string, unknown>[];
  ms: number;
}

export interface SpawnRunOptions {
  /** Written to the container's stdin, then closed (stdin is /dev/null in the container unless config.stdin). */
  input?: string;
  env?: Record<string, string>;
  /** Leave fd 4 closed: failures then go to stderr. */
  noStatusFd?: boolean;
}

/** Spawns `tspod-helper run` as `user` with the encoded configuration on fd 3 and a status pipe on fd 4. */
export function spawnRun(user: string, config: RunConfig, opts: SpawnRunOptions = {}): HelperRun {
  const u = userInfo(user);
  const started = Date.now();
  const args = ['--reuid', String(u.uid), '--regid', String(u.gid), '--init-groups', '--', HELPER, 'run'];
  const stdio: ('pipe' | 'ignore')[] = ['pipe', 'pipe', 'pipe', 'pipe', opts.noStatusFd ? 'ignore' : 'pipe'];
  const child = spawn('/usr/bin/setpriv', args, { env: { ...userEnv(u), ...opts.env }, cwd: u.home, stdio });
  let out = '';
  let err = '';
  let st = '';
  const listeners = new Set<() => void>();
  const notify = (): void => listeners.forEach((f) => f());
  child.stdout!.setEncoding('utf8').on('data', (d: string) => ((out += d), notify()));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => ((err += d), notify()));
  const statusStream = child.stdio[4] as net.Socket | null;
  const statusDone = new Promise<void>((resolve) => {
    if (!statusStream) return resolve();
    statusStream.setEncoding('utf8');
    statusStream.on('data', (d: string) => ((st += d), notify()));
    statusStream.on('end', resolve);
    statusStream.on('close', resolve);
    statusStream.on('error', () => resolve());
  });
  const cfg = child.stdio[3] as net.Socket;
  cfg.on('error', () => undefined);
  cfg.end(encodeRunConfig(config));
  child.stdin!.on('error', () => undefined);
  child.stdin!.end(opts.input ?? '');
  const until = (pred: () => boolean, ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      if (pred()) return resolve(true);
      const timer = setTimeout(() => {
        listeners.delete(check);
        resolve(false);
      }, ms);
      const check = (): void => {
        if (!pred()) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolve(true);
      };
      listeners.add(check);
    });
  const parse = (): Record<string, unknown>[] =>
    st.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const exited = new Promise<HelperResult>((resolve) => {
    child.on('close', (code, signal) => {
      void statusDone.then(() =>
        resolve({ code, signal, stdout: out, stderr: err, status: parse(), ms: Date.now() - started }),
      );
    });
  });
  return {
    child,
    pid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    status: parse,
    waitFor: (text, ms, stream = 'stdout') => until(() => (stream === 'stdout' ? out : err).includes(text), ms),
    containerPid: async (ms) => ((await until(() => /"pid":\d+/.test(st), ms)) ? Number(parse()[0].pid) : undefined),
    exited,
  };
}

/** Runs the helper to its end (killed after `timeout` ms). */
export async function runHelper(user: string, config: RunConfig, opts: SpawnRunOptions & { timeout?: number } = {}): Promise<HelperResult> {
  const r = spawnRun(user, config, opts);
  const timer = setTimeout(() => r.child.kill('SIGKILL'), opts.timeout ?? 30_000);
  const res = await r.exited;
  clearTimeout(timer);
  return res;
}

/** The configuration as a file the user can read, for a helper started by a shell (`3<FILE`). */
export function configFile(user: string, config: RunConfig): string {
  const u = userInfo(user);
  const dir = userTempDir(user, 'cfg');
  const file = path.join(dir, 'config');
  fs.writeFileSync(file, encodeRunConfig(config));
  fs.chownSync(file, u.uid, u.gid);
  return file;
}

// ---------------------------------------------------------------------------------------------
// The helper on a pseudo terminal (test/lib/pty), whose size can change mid-run.

export type TermStep = PtyStep;

export interface TermResult {
  code: number | null;
  output: string;
  timedOut: boolean;
  stuckAt: number | null;
}

/** Runs `tspod-helper run` with `config` on a pty of rows x cols, as `user`, following `steps`. */
export async function runOnTerminal(
  user: string,
  config: RunConfig,
  steps: TermStep[],
  size: [number, number] = [24, 80],
  timeout = 20_000,
): Promise<TermResult> {
  const file = configFile(user, config);
  const argv = ['/bin/sh', '-c', `exec "$0" run 3<"$1"`, HELPER, file];
  try {
    const r = await withPty(user, argv, { steps, rows: size[0], cols: size[1], timeout });
    return { code: r.code, output: r.output, timedOut: r.timedOut, stuckAt: r.stuckAt ?? null };
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The attach socket of a detached container (PROTOCOL.md: u8 type, u32 LE length, payload).

export interface Frame {
  type: number;
  data: Buffer;
}

export class AttachClient {
  private buf = Buffer.alloc(0);
  readonly frames: Frame[] = [];
  private waiters = new Set<() => void>();
  readonly closed: Promise<void>;

  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 5) {
        const len = this.buf.readUInt32LE(1);
        if (this.buf.length < 5 + len) break;
        this.frames.push({ type: this.buf[0], data: this.buf.subarray(5, 5 + len) });
        this.buf = this.buf.subarray(5 + len);
      }
      this.waiters.forEach((f) => f());
    });
    this.closed = new Promise((resolve) => sock.on('close', () => resolve()));
    sock.on('error', () => undefined);
  }

  static connect(socketPath: string): Promise<AttachClient> {
    return new Promise((resolve, reject) => {
      const s = net.createConnection(socketPath, () => resolve(new AttachClient(s)));
      s.once('error', reject);
    });
  }

  /** Everything received on stream `type` (1 stdout, 2 stderr) so far. */
  text(type: number): string {
    return Buffer.concat(this.frames.filter((f) => f.type === type).map((f) => f.data)).toString('utf8');
  }

  send(type: 0 | 1, payload: string): void {
    const data = Buffer.from(payload);
    const head = Buffer.alloc(5);
    head[0] = type;
    head.writeUInt32LE(data.length, 1);
    this.sock.write(Buffer.concat([head, data]));
  }

  /** Resolves once pred holds for the frames received, false after ms. */
  until(pred: (c: AttachClient) => boolean, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (pred(this)) return resolve(true);
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        resolve(false);
      }, ms);
      const check = (): void => {
        if (!pred(this)) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(true);
      };
      this.waiters.add(check);
    });
  }

  close(): void {
    this.sock.destroy();
  }
}

/** k8s-file records joined back into lines (a `P` record continues into the next). */
export function parseK8sLog(text: string): { stream: string; line: string; time: string }[] {
  const out: { stream: string; line: string; time: string }[] = [];
  const partial: Record<string, string> = {};
  for (const rec of text.split('\n')) {
    if (!rec) continue;
    const m = /^(\S+) (stdout|stderr) ([FP]) (.*)$/s.exec(rec);
    if (!m) throw new Error(`not a k8s-file record: ${JSON.stringify(rec.slice(0, 200))}`);
    const [, time, stream, tag, content] = m;
    const acc = (partial[stream] ?? '') + content;
    if (tag === 'P') partial[stream] = acc;
    else {
      delete partial[stream];
      out.push({ stream, line: acc, time });
    }
  }
  for (const [stream, acc] of Object.entries(partial)) out.push({ stream, line: acc, time: '' });
  return out;
}

/** Whether pid is alive (and not a zombie). */
export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}
