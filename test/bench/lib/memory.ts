// Peak memory of a command's whole process tree.
//
// Membership: each measured command starts inside a cgroup of its own, a child of the cgroup this
// benchmark runs in (so it stays under whatever limits apply to us). Every process it forks joins
// it, including ones that leave the process group or enter a user namespace, and none of ours does.
// Any cgroup hierarchy serves for membership; the v1 memory one is preferred when mounted.
//
// What is counted, from /proc/PID/status every SAMPLE_MS for every process in the cgroup
// (resident pages only: anonymous memory and mapped files such as the executable):
//   treePeak     the largest footprint over the samples, a footprint being the anonymous (and shmem)
//                resident pages of every process plus the file-backed resident pages of the process
//                with the most of them. So the executable's pages are counted once when a tool runs
//                copies of itself (podman re-executes itself as storage-untar), and a fork that has
//                not exec'd yet (same program and name as its parent in the tree) is skipped: its
//                pages are its parent's, and a plain sum of resident sets counts them twice (seen:
//                a "257 MB" peak for a 170 MB tspod forking a helper). Sampled: a spike shorter
//                than the interval can be missed.
//   treeRssPeak  the plain sum of VmRSS over the same processes, for comparison with ps and top.
//   hwmSum       the sum over processes of each one's own peak (VmHWM, kept by the kernel, exact
//                up to the last sample): an upper bound, loose when processes follow each other.
// Proportional set sizes (smaps_rollup) would be the textbook answer, but reading them walks the
// page tables: ~5 ms per sample of a 170 MB process, a quarter of a core at 20 ms, taken from
// the command being measured on this 2-core machine; status is a handful of counters.
// The memory cgroup's own memory.max_usage_in_bytes is recorded too but not reported as the
// peak: it charges the page cache of every file the command writes, so an unpack of 800 MB of
// files "uses" about that much whatever the tool holds itself.

import * as fs from 'node:fs';
import * as path from 'node:path';

export const SAMPLE_MS = 20;

export interface ProcessPeak {
  pid: number;
  name: string;
  hwmBytes: number;
}

export interface MemoryPeak {
  treePeakBytes: number;
  treeRssPeakBytes: number;
  hwmSumBytes: number;
  processes: ProcessPeak[];
  samples: number;
  /** v1 memory cgroup only: page cache included, see above. */
  cgroupMaxUsageBytes?: number;
}

interface Hierarchy {
  /** The directory of the cgroup this process is in. */
  own: string;
  memoryV1: boolean;
}

let hierarchy: Hierarchy | null | undefined;

/** Our own cgroup in the memory v1 hierarchy, or else the v2 one; null when neither is usable. */
function findHierarchy(): Hierarchy | null {
  if (hierarchy !== undefined) return hierarchy;
  const lines = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n');
  const candidates: Hierarchy[] = [];
  for (const line of lines) {
    const [, controllers, rel] = line.split(':');
    if (rel === undefined) continue;
    if (controllers.split(',').includes('memory')) candidates.push({ own: path.join('/sys/fs/cgroup/memory', rel), memoryV1: true });
    if (controllers === '') {
      for (const root of ['/sys/fs/cgroup/unified', '/sys/fs/cgroup']) {
        if (fs.existsSync(path.join(root, 'cgroup.controllers'))) candidates.push({ own: path.join(root, rel), memoryV1: false });
      }
    }
  }
  hierarchy = candidates.find((c) => canCreateChild(c.own)) ?? null;
  return hierarchy;
}

function canCreateChild(dir: string): boolean {
  const probe = path.join(dir, `tspod-bench-probe-${process.pid}`);
  try {
    fs.mkdirSync(probe);
    fs.rmdirSync(probe);
    return true;
  } catch {
    return false;
  }
}

/** Why memory cannot be measured here, or undefined when it can. */
export function memoryUnavailableReason(): string | undefined {
  return findHierarchy() ? undefined : 'no writable cgroup hierarchy below our own cgroup (need root and cgroupfs)';
}

function kb(text: string, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

interface ProcessSample {
  pid: string;
  ppid: string;
  name: string;
  exe: string;
  rss: number;
  /** RssAnon + RssShmem: memory of this process alone (after exec). */
  own: number;
  file: number;
  hwm: number;
}

function readProcess(pid: string): ProcessSample | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    let exe = '';
    try {
      exe = fs.readlinkSync(`/proc/${pid}/exe`);
    } catch {
      // a zombie or a kernel thread has none
    }
    return {
      pid,
      ppid: /^PPid:\s+(\d+)/m.exec(status)?.[1] ?? '',
      name: /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '?',
      exe,
      rss: kb(status, 'VmRSS'),
      own: kb(status, 'RssAnon') + kb(status, 'RssShmem'),
      file: kb(status, 'RssFile'),
      hwm: kb(status, 'VmHWM'),
    };
  } catch {
    return undefined; // exited between the listing and the read
  }
}

/** The footprint of one sample (see the top of this file). */
function footprint(procs: ProcessSample[]): number {
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  let own = 0;
  let file = 0;
  for (const p of procs) {
    const parent = byPid.get(p.ppid);
    if (parent && parent.exe === p.exe && parent.name === p.name) continue;
    own += p.own;
    file = Math.max(file, p.file);
  }
  return own + file;
}

/** A cgroup for one measured command, sampled from creation to stop(). */
export class RunCgroup {
  readonly dir: string;
  private readonly memoryV1: boolean;
  private timer: NodeJS.Timeout | undefined;
  private treePeak = 0;
  private treeRssPeak = 0;
  private samples = 0;
  private readonly peaks = new Map<string, ProcessPeak>();

  private constructor(h: Hierarchy, name: string) {
    this.dir = path.join(h.own, name);
    this.memoryV1 = h.memoryV1;
    fs.mkdirSync(this.dir);
  }

  /** undefined when memory cannot be measured on this machine (see memoryUnavailableReason). */
  static create(): RunCgroup | undefined {
    const h = findHierarchy();
    if (!h) return undefined;
    return new RunCgroup(h, `tspod-bench-${process.pid}-${Date.now()}`);
  }

  /** What a shell writes its own pid into before exec'ing the command. */
  get procsFile(): string {
    return path.join(this.dir, 'cgroup.procs');
  }

  start(): void {
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
  }

  private sample(): void {
    let pids: string[];
    try {
      pids = fs.readFileSync(this.procsFile, 'utf8').split('\n').filter(Boolean);
    } catch {
      return;
    }
    const procs: ProcessSample[] = [];
    for (const pid of pids) {
      const st = readProcess(pid);
      if (!st) continue;
      procs.push(st);
      // pid and name: an exec'd process (sh -> setpriv -> tspod) keeps its pid but is another program.
      const key = `${pid}/${st.name}`;
      const prev = this.peaks.get(key);
      if (!prev || st.hwm > prev.hwmBytes) this.peaks.set(key, { pid: Number(pid), name: st.name, hwmBytes: st.hwm });
    }
    this.samples++;
    this.treePeak = Math.max(this.treePeak, footprint(procs));
    this.treeRssPeak = Math.max(this.treeRssPeak, procs.reduce((n, p) => n + p.rss, 0));
  }

  /** Takes a last sample and returns the figures; call when the command has exited. */
  stop(): MemoryPeak {
    clearInterval(this.timer);
    this.sample();
    // Only the last program a pid ran counts towards hwmSum (VmHWM restarts at exec).
    const byPid = new Map<number, ProcessPeak>();
    for (const p of this.peaks.values()) {
      const prev = byPid.get(p.pid);
      if (!prev || p.hwmBytes > prev.hwmBytes) byPid.set(p.pid, p);
    }
    const processes = [...byPid.values()].sort((a, b) => b.hwmBytes - a.hwmBytes);
    const result: MemoryPeak = {
      treePeakBytes: this.treePeak,
      treeRssPeakBytes: this.treeRssPeak,
      hwmSumBytes: processes.reduce((n, p) => n + p.hwmBytes, 0),
      processes,
      samples: this.samples,
    };
    if (this.memoryV1) {
      try {
        result.cgroupMaxUsageBytes = Number(fs.readFileSync(path.join(this.dir, 'memory.max_usage_in_bytes'), 'utf8'));
      } catch {
        // not a memory controller after all
      }
    }
    return result;
  }

  /**
   * Moves any process still in the cgroup (a daemon the command left behind, such as podman's
   * pause process when it had to start one) to our own cgroup, and removes the cgroup.
   */
  remove(): void {
    const parent = path.join(path.dirname(this.dir), 'cgroup.procs');
    for (let attempt = 0; attempt < 50; attempt++) {
      let pids: string[] = [];
      try {
        pids = fs.readFileSync(this.procsFile, 'utf8').split('\n').filter(Boolean);
      } catch {
        return;
      }
      for (const pid of pids) {
        try {
          fs.writeFileSync(parent, pid);
        } catch {
          // gone meanwhile
        }
      }
      try {
        fs.rmdirSync(this.dir);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EBUSY') throw err;
      }
      // A process that just exited lingers in the cgroup until reaped; give it a moment.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
    throw new Error(`cannot remove cgroup ${this.dir}: processes keep appearing in it`);
  }
}
