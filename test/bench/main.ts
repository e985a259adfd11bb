// The benchmark runner behind `sh test/bench/run.sh [NAME...] [options]` (see test/bench/README.md).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../lib';
import { BENCHMARKS } from './benchmarks';
import type { BenchContext, BenchFs, FsName, Row, Tool } from './lib/contest';
import { memoryUnavailableReason } from './lib/memory';
import { emptyDir, loginEnv, measureAs, runRoot } from './lib/proc';
import { formatTable, saveJson } from './lib/report';
import {
  BENCH_WORK,
  benchRuntimeDir,
  benchUser,
  configurePodman,
  ensureImages,
  ensureLoopFs,
  imageRef,
  LOOP_MOUNT,
  retirePausePastMount,
  rootFsDir,
  teardownLoopFs,
  upTestBed,
} from './lib/setup';
import { podmanTool, tspodTool } from './lib/tools';

const USAGE = `usage: sh test/bench/run.sh [NAME...] [options]   (as root)

Benchmarks (all when none is named):
${BENCHMARKS.map((b) => `  ${b.name.padEnd(8)} ${b.summary}`).join('\n')}

Options:
  --runs N            repetitions per case and tool (default: each benchmark's own)
  --fs root,loop      file systems: root = / (ext4, no journal), loop = journaled ext4 loop mount
  --only A,B          only these cases (for pull: small, many-layers, debian-like, big)
  --tools T,...       contenders among tspod,podman (default both)
  --tspod "CMD"       run tspod as CMD (default dist/tspod), e.g.
                      --tspod "node_modules/.bin/node build/cmd/tspod.js"
  --rebuild-images    rebuild and push the bench images even when cached
  --teardown          unmount and delete the loop file system and the bench stores, then exit
`;

function fail(msg: string): never {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(2);
}

function list(v: string | undefined): string[] | undefined {
  return v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean);
}

function version(argv: string[], env: NodeJS.ProcessEnv): string {
  try {
    return runRoot(argv, { env }).trim().split('\n')[0];
  } catch (err) {
    return `unknown (${(err as Error).message.split('\n')[0]})`;
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      runs: { type: 'string' },
      fs: { type: 'string' },
      only: { type: 'string' },
      tools: { type: 'string' },
      tspod: { type: 'string' },
      'rebuild-images': { type: 'boolean', default: false },
      teardown: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (process.getuid?.() !== 0) fail('run as root (sudo npm run bench): it mounts a file system and empties other users\' stores');
  const user = benchUser();

  if (values.teardown) {
    teardownLoopFs();
    emptyDir(path.join(user.home, 'bench'), user, 0o755);
    return;
  }

  const selected = positionals.length ? positionals : BENCHMARKS.map((b) => b.name);
  const benchmarks = selected.map((n) => BENCHMARKS.find((b) => b.name === n) ?? fail(`no benchmark "${n}" (have: ${BENCHMARKS.map((b) => b.name).join(', ')})`));
  const runs = values.runs === undefined ? undefined : Number(values.runs);
  if (runs !== undefined && !(Number.isInteger(runs) && runs > 0)) fail(`--runs wants a positive integer, not "${values.runs}"`);
  const fsNames = (list(values.fs) ?? ['root', 'loop']) as FsName[];
  for (const f of fsNames) if (f !== 'root' && f !== 'loop') fail(`--fs: unknown file system "${f}" (root, loop)`);
  const toolNames = list(values.tools) ?? ['tspod', 'podman'];
  for (const t of toolNames) if (t !== 'tspod' && t !== 'podman') fail(`--tools: unknown tool "${t}" (tspod, podman)`);
  // Relative paths in CMD are the checkout's (the runs happen in the user's home).
  const tspodCmd = values.tspod
    ?.split(/\s+/)
    .filter(Boolean)
    .map((w) => (/^[^-/=][^=]*\//.test(w) ? path.resolve(REPO_ROOT, w) : w));
  if (tspodCmd && tspodCmd[0] !== undefined && !fs.existsSync(tspodCmd[0])) fail(`--tspod: ${tspodCmd[0]} does not exist`);
  if (!tspodCmd && !fs.existsSync(path.join(REPO_ROOT, 'dist/tspod'))) fail('dist/tspod is missing: npm run build');
  const memoryNote = memoryUnavailableReason();
  if (memoryNote) process.stderr.write(`bench: peak memory not measured: ${memoryNote}\n`);

  // Other work on this 2-core machine skews every figure; say so, and keep it with the results.
  const loadBefore = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  if (Number(loadBefore.split(' ')[0]) > 1) process.stderr.write(`bench: the machine is busy (load average ${loadBefore}): expect noisy figures\n`);

  upTestBed();
  const runtimeDir = benchRuntimeDir(user);
  configurePodman(user, runtimeDir);
  const images = ensureImages(values['rebuild-images']);
  const filesystems: BenchFs[] = fsNames.map((name) =>
    name === 'root'
      ? { name, dir: rootFsDir(user), label: '/ (ext4 without a journal)' }
      : { name, dir: ensureLoopFs(user), label: 'ext4 with a journal on a loop device' },
  );
  if (fsNames.includes('loop')) retirePausePastMount(runtimeDir, LOOP_MOUNT);
  const env = loginEnv(user, runtimeDir);
  const all: Tool[] = [tspodTool(tspodCmd), podmanTool(runtimeDir)];
  const tools = all.filter((t) => toolNames.includes(t.name));

  // Untimed: loads both programs into the page cache, and starts podman's pause process here,
  // outside any measured cgroup, where it stays for the later runs as on a user's machine.
  const small = images.get('small');
  for (const t of tools) {
    if (!small) break;
    const scratch: BenchFs = { ...filesystems[0], dir: path.join(filesystems[0].dir, 'warm-up') };
    emptyDir(scratch.dir, user, 0o755);
    const r = await measureAs(user, t.argv(scratch, ['pull', imageRef(small)]), { env, memory: false });
    if (r.code !== 0) fail(`warm-up: ${t.name} pull ${imageRef(small)} failed (exit ${r.code}):\n${r.stderr.trim()}`);
    emptyDir(scratch.dir, user, 0o755);
  }

  const rows: Row[] = [];
  const started = new Date().toISOString();
  const ctx: BenchContext = {
    user,
    env,
    filesystems,
    tools,
    images,
    runs,
    cases: list(values.only),
    logDir: path.join(BENCH_WORK, 'logs', started.replace(/[:.]/g, '-')),
    record: (row) => rows.push(row),
  };
  for (const b of benchmarks) {
    process.stderr.write(`bench: ${b.name}\n`);
    await b.run(ctx);
  }

  process.stdout.write('\n' + formatTable(rows));
  const saved = saveJson(BENCH_WORK, {
    started,
    tspod: version([...(tspodCmd ?? [path.join(REPO_ROOT, 'dist/tspod')]), '--version'], process.env),
    podman: version(['podman', '--version'], process.env),
    kernel: os.release(),
    loadAverage: { before: loadBefore, after: fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ') },
    filesystems: Object.fromEntries(filesystems.map((f) => [f.name, `${f.label}: ${f.dir}`])),
    images: Object.fromEntries([...images].map(([n, i]) => [n, { compressedSize: i.compressedSize, layers: i.layers.length, entries: i.entries }])),
  }, rows);
  process.stdout.write(`\nseconds: median (min-max) of wall-clock time; MB: peak memory footprint of the process tree; ` +
    `ratio: tspod/podman medians\nfile systems: ${filesystems.map((f) => `${f.name} = ${f.label}`).join('; ')}\nsaved ${saved}\n`);
  if (rows.some((r) => Object.values(r.results).some((x) => x.failures > 0))) {
    process.stdout.write(`some runs failed: their output is in ${ctx.logDir}\n`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
