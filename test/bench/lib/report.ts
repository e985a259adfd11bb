// The report: one table row per benchmark case and file system, and the same rows as JSON.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Result, Row } from './contest';
import { ratio } from './stats';

const MB = 1e6;

function secs(r: Result | undefined): string {
  if (!r) return '-';
  if (!r.seconds) return `failed ${r.failures}/${r.runs}`;
  const s = r.seconds;
  const fail = r.failures ? ` !${r.failures}` : '';
  return `${s.median.toFixed(2)} (${s.min.toFixed(2)}-${s.max.toFixed(2)})${fail}`;
}

function mb(r: Result | undefined): string {
  return r?.peak ? (r.peak.treePeakBytes / MB).toFixed(0) : '-';
}

/** tspod/podman of the medians. */
export function rowRatio(row: Row): number | undefined {
  return ratio(row.results.tspod?.seconds, row.results.podman?.seconds);
}

/** 'ok', 'MISS: why', or '' when the row has no goal or lacks the figures to judge it. */
export function judge(row: Row): string {
  const g = row.goal;
  if (!g) return '';
  const misses: string[] = [];
  const r = rowRatio(row);
  if (g.maxRatio !== undefined && r !== undefined && r > g.maxRatio) misses.push(`ratio > ${g.maxRatio}`);
  const peak = row.results.tspod?.peak;
  if (g.maxPeakMB !== undefined && peak && peak.treePeakBytes / MB > g.maxPeakMB) misses.push(`peak > ${g.maxPeakMB} MB`);
  if (misses.length) return `MISS: ${misses.join(', ')}`;
  const judged = (g.maxRatio !== undefined && r !== undefined) || (g.maxPeakMB !== undefined && peak);
  return judged ? 'ok' : '';
}

export function formatTable(rows: Row[]): string {
  const head = ['benchmark', 'case', 'fs', 'tspod s', 'podman s', 'ratio', 'floor s', 'tspod MB', 'podman MB', 'goal'];
  const body = rows.map((row) => {
    const r = rowRatio(row);
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
  const doc = JSON.stringify({ ...info, rows: rows.map((r) => ({ ...r, ratio: rowRatio(r), verdict: judge(r) })) }, null, 1) + '\n';
  const file = path.join(out, `${info.started.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, doc);
  fs.writeFileSync(path.join(dir, 'latest.json'), doc);
  return file;
}
