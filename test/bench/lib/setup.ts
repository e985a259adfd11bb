// Everything a benchmark needs before its first timed run, each step idempotent (run as root):
// the test bed (users, registries), the bench user's podman configuration and runtime directory,
// the loop file system and the bench images.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, TEST_USER, WORK_DIR, mountsUnder, userInfo, type UserInfo } from '../../lib';
import { emptyDir, runRoot } from './proc';

/** Where the bench keeps its images, results and logs (test/.work/bench). */
export const BENCH_WORK = path.join(WORK_DIR, 'bench');
export const REGISTRY = 'localhost:5000';
export const REGISTRY_HTTP = 'http://127.0.0.1:5000';

/** The journaled loop file system: created once, reused while the file exists. */
export const LOOP_FILE = process.env.TSPOD_BENCH_LOOP_FILE || '/var/tmp/tspod-bench.ext4';
export const LOOP_MOUNT = process.env.TSPOD_BENCH_LOOP_DIR || '/mnt/tspod-bench';
const LOOP_SIZE = '8G';

export function benchUser(): UserInfo {
  return userInfo(TEST_USER);
}

function say(msg: string): void {
  process.stderr.write(`bench: ${msg}\n`);
}

/** test/setup/up.sh: users, registries and fixtures, as the tests have them. */
export function upTestBed(): void {
  const t0 = Date.now();
  runRoot(['sh', path.join(REPO_ROOT, 'test/setup/up.sh')]);
  say(`test bed up (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
}

/**
 * The user's private runtime directory for the bench (XDG_RUNTIME_DIR): podman keeps its pause
 * process pid and locks there, tspod its runtime state. Apart from the test suites' own.
 */
export function benchRuntimeDir(user: UserInfo): string {
  const dir = `/tmp/tspod-bench-run-${user.uid}`;
  const st = fs.lstatSync(dir, { throwIfNoEntry: false });
  if (st && !st.isDirectory()) fs.rmSync(dir, { force: true });
  if (!st?.isDirectory()) fs.mkdirSync(dir, { mode: 0o700 });
  fs.chownSync(dir, user.uid, user.gid);
  fs.chmodSync(dir, 0o700);
  return dir;
}

function writeUserFile(user: UserInfo, file: string, text: string): void {
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  for (let d = path.dirname(file); d.startsWith(user.home + '/'); d = path.dirname(d)) fs.chownSync(d, user.uid, user.gid);
  fs.writeFileSync(`${file}.tmp`, text, { mode: 0o644 });
  fs.chownSync(`${file}.tmp`, user.uid, user.gid);
  fs.renameSync(`${file}.tmp`, file);
  say(`wrote ${file}`);
}

/**
 * Rootless podman as a peer: runc (crun refuses this machine's hybrid cgroups), cgroupfs and file
 * events (no systemd here), the overlay driver with its graphroot on / under the user's home (the
 * benchmarks pass --root/--runroot per file system anyway). registries.conf, with localhost:5000
 * insecure, is test/setup/users.sh's and is only checked here.
 */
export function configurePodman(user: UserInfo, runtimeDir: string): void {
  const dir = path.join(user.home, '.config', 'containers');
  writeUserFile(
    user,
    path.join(dir, 'containers.conf'),
    '# Written by test/bench (tspod benchmarks): rootless podman on this machine.\n' +
      '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n',
  );
  writeUserFile(
    user,
    path.join(dir, 'storage.conf'),
    '# Written by test/bench (tspod benchmarks).\n' +
      `[storage]\ndriver = "overlay"\ngraphroot = "${path.join(user.home, 'bench', 'podman')}"\n` +
      `runroot = "${path.join(runtimeDir, 'containers')}"\n`,
  );
  const reg = fs.readFileSync(path.join(dir, 'registries.conf'), 'utf8');
  if (!/location\s*=\s*"localhost:5000"[\s\S]*?insecure\s*=\s*true/.test(reg)) {
    throw new Error(`${dir}/registries.conf does not mark localhost:5000 insecure: run sh test/setup/up.sh`);
  }
  // slirp4netns and pasta open it as the user (runs, not pulls; set here for the later benchmarks).
  if (fs.existsSync('/dev/net/tun')) fs.chmodSync('/dev/net/tun', 0o666);
}

/** Mounts the journaled ext4 loop file system (making it the first time) and returns its root. */
export function ensureLoopFs(user: UserInfo): string {
  const mounted = mountsUnder(LOOP_MOUNT).includes(LOOP_MOUNT);
  if (!mounted) {
    if (!fs.existsSync(LOOP_FILE)) {
      fs.mkdirSync(path.dirname(LOOP_FILE), { recursive: true });
      runRoot(['truncate', '-s', LOOP_SIZE, LOOP_FILE]);
      runRoot(['mkfs.ext4', '-q', LOOP_FILE]);
      say(`made ${LOOP_FILE} (${LOOP_SIZE}, ext4 with a journal)`);
    }
    fs.mkdirSync(LOOP_MOUNT, { recursive: true });
    runRoot(['mount', '-o', 'loop', LOOP_FILE, LOOP_MOUNT]);
    say(`mounted ${LOOP_FILE} on ${LOOP_MOUNT}`);
  }
  fs.chownSync(LOOP_MOUNT, user.uid, user.gid);
  fs.chmodSync(LOOP_MOUNT, 0o755);
  return LOOP_MOUNT;
}

/**
 * Rootless podman keeps a pause process whose mount namespace every later podman joins; it is a
 * copy of ours taken when the pause process started, and / is not a shared mount here, so a file
 * system mounted afterwards is invisible to podman ("mkdir ...: permission denied" on the empty
 * mount point). Stops such a stale pause process (found by the pid file podman wrote in the
 * bench's own runtime directory) so that the next podman starts one that sees `mountPoint`.
 */
export function retirePausePastMount(runtimeDir: string, mountPoint: string): void {
  const pidFile = path.join(runtimeDir, 'libpod', 'tmp', 'pause.pid');
  const pid = Number(fs.existsSync(pidFile) ? fs.readFileSync(pidFile, 'utf8').trim() : NaN);
  if (!Number.isInteger(pid) || pid <= 0) return;
  let mounts: string;
  try {
    mounts = fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8');
  } catch {
    return; // not running
  }
  const escaped = mountPoint.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  if (mounts.split('\n').some((l) => l.split(' ')[4] === escaped)) return;
  process.kill(pid, 'SIGKILL');
  fs.rmSync(pidFile, { force: true });
  say(`stopped podman's pause process ${pid}: it predates the mount of ${mountPoint}`);
}

/** Unmounts and deletes the loop file system (sh test/bench/run.sh --teardown). */
export function teardownLoopFs(): void {
  if (mountsUnder(LOOP_MOUNT).includes(LOOP_MOUNT)) {
    for (const mp of mountsUnder(LOOP_MOUNT)) runRoot(['umount', mp]);
    say(`unmounted ${LOOP_MOUNT}`);
  }
  if (fs.existsSync(LOOP_FILE)) {
    fs.rmSync(LOOP_FILE);
    say(`removed ${LOOP_FILE}`);
  }
}

export interface LayerFacts {
  mediaType: string;
  digest: string;
  size: number;
  diffId: string;
  entries: number;
}

export interface BenchImage {
  name: string;
  repository: string;
  tag: string;
  manifestDigest: string;
  layers: LayerFacts[];
  compressedSize: number;
  entries: number;
}

/** `localhost:5000/bench/NAME:latest` */
export function imageRef(image: BenchImage): string {
  return `${REGISTRY}/${image.repository}:${image.tag}`;
}

/** Builds (when not cached) and pushes the bench images; returns them by name. */
export function ensureImages(rebuild: boolean): Map<string, BenchImage> {
  const t0 = Date.now();
  const argv = ['/usr/bin/python3', '-B', path.join(REPO_ROOT, 'test/bench/images/build.py'), '--work', BENCH_WORK];
  if (rebuild) argv.push('--rebuild');
  fs.mkdirSync(BENCH_WORK, { recursive: true });
  const out = runRoot(argv);
  fs.writeFileSync(path.join(BENCH_WORK, 'images.log'), out);
  say(`images ready (${((Date.now() - t0) / 1000).toFixed(1)}s; ${path.join(BENCH_WORK, 'images.log')})`);
  const doc = JSON.parse(fs.readFileSync(path.join(BENCH_WORK, 'images.json'), 'utf8')) as {
    images: Record<string, Omit<BenchImage, 'name'>>;
  };
  return new Map(Object.entries(doc.images).map(([name, facts]) => [name, { name, ...facts }]));
}

/** The directory the bench user can read that holds everything else of the bench on `/`. */
export function rootFsDir(user: UserInfo): string {
  const dir = path.join(user.home, 'bench');
  if (!fs.existsSync(dir)) emptyDir(dir, user, 0o755);
  return dir;
}
