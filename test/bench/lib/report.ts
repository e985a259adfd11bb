// The report: one table row per benchmark case and file system, and the same rows as JSON.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Result, Row } from './contest';
import { ratio } from './stats';

const MB = 1e6;

function secs(r: Result | undefined): string {
  if (!r) return '-';
  if (r.note) return r.note;
  if (!r.seconds) return `failed ${r.failures}/${r.runs}`;
  const s = r.seconds;
  const fail = r.failures ? ` !${r.failures}` : '';
  // Milliseconds matter below a second (startup, ps): one more digit there.
  const d = s.median < 1 ? 3 : 2;
  return `${s.median.toFixed(d)} (${s.min.toFixed(d)}-${s.max.toFixed(d)})${fail}`;
}

function mb(r: Result | undefined): string {
  return r?.peak ? (r.peak.treePeakBytes / MB).toFixed(0) : '-';
}

/** tspod/podman of the medians. */
export function rowRatio(row: Row): number | undefined {
  return ratio(row.results.tspod?.seconds, row.results.podman?.seconds);
}

/** tspod/`other` of the medians, for each of Row.others. */
export function ratiosVs(row: Row): Record<string, number | undefined> {
  return Object.fromEntries((row.others ?? []).map((o) => [o, ratio(row.results.tspod?.seconds, row.results[o]?.seconds)]));
}

/** 'ok', 'MISS: why', or '' when the row has no goal or lacks the figures to judge it. */
export function judge(row: Row): string {
  const g = row.goal;
  if (!g) return '';
  const misses: string[] = [];
  let judged = false;
  const r = rowRatio(row);
  if (g.maxRatio !== undefined && r !== undefined) {
    judged = true;
    if (r > g.maxRatio) misses.push(`ratio > ${g.maxRatio}`);
  }
  const peak = row.results.tspod?.peak;
  if (g.maxPeakMB !== undefined && peak) {
    judged = true;
    if (peak.treePeakBytes / MB > g.maxPeakMB) misses.push(`peak > ${g.maxPeakMB} MB`);
  }
  const vs = ratiosVs(row);
  for (const [other, max] of Object.entries(g.maxRatioVs ?? {})) {
    const rv = vs[other] ?? ratio(row.results.tspod?.seconds, row.results[other]?.seconds);
    if (rv === undefined) continue;
    judged = true;
    if (rv > max) misses.push(`tspod/${other} > ${max}`);
  }
  if (misses.length) return `MISS: ${misses.join(', ')}`;
  return judged ? 'ok' : '';
}

/** Each of Row.others as "NAME median (min-max) tspod/NAME". */
function others(row: Row): string {
  const vs = ratiosVs(row);
  const cells = (row.others ?? []).map((o) => `${o} ${secs(row.results[o])}${vs[o] === undefined ? '' : ` ${vs[o]!.toFixed(2)}`}`);
  return cells.length ? cells.join('; ') : '-';
}

/** The 1-minute load average before -> after the case. */
function load(row: Row): string {
  return row.load ? `${row.load.before.split(' ')[0]}->${row.load.after.split(' ')[0]}` : '-';
}

/**
 * The table; the columns `others s (tspod/x)` and `load` appear only when some row has them, so
 * a run of benchmarks without them reads as before.
 */
export function formatTable(rows: Row[]): string {
  const withOthers = rows.some((r) => r.others?.length);
  const withLoad = rows.some((r) => r.load);
  const head = ['benchmark', 'case', 'fs', 'tspod s', 'podman s', 'ratio', 'floor s', 'tspod MB', 'podman MB'];
  if (withOthers) head.push('others s (tspod/x)');
  if (withLoad) head.push('load');
  head.push('goal');
  const body = rows.map((row) => {
    const r = rowRatio(row);
    const extra = [...(withOthers ? [others(row)] : []), ...(withLoad ? [load(row)] : [])];
    return [
      row.benchmark,
      row.case,
      row.fs,
      secs(row.results.tspod),
      secs(row.results.podman),
      r === undefined ? '-' : r.toFixed(2),
      row.floor ? secs(row.results[row.floor]) : '-',
      mb(row.results.tspod),
      mb(row.results.podman),
      ...extra,
      judge(row),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(head), ...body.map(line)].join('\n') + '\n';
}

export interface RunInfo {
  started: string;
  tspod: string;
  podman: string;
  kernel: string;
  /** /proc/loadavg's three figures when the run started and ended: other work skews everything. */
  loadAverage: { before: string; after: string };
  filesystems: Record<string, string>;
  images: Record<string, { compressedSize: number; layers: number; entries: number }>;
}

/** Writes results/<time>.json and latest.json under `dir`; returns the first path. */
export function saveJson(dir: string, info: RunInfo, rows: Row[]): string {
  const out = path.join(dir, 'results');
  fs.mkdirSync(out, { recursive: true });
  const doc = JSON.stringify({ ...info, rows: rows.map((r) => ({ ...r, ratio: rowRatio(r), ratiosVs: r.others ? ratiosVs(r) : undefined, verdict: judge(r) })) }, null, 1) + '\n';
  const file = path.join(out, `${info.started.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, doc);
  fs.writeFileSync(path.join(dir, 'latest.json'), doc);
  return file;
}
