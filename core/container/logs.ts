// `logs`: reads the monitor's log file (podman's k8s-file format, one record per line:
// `2026-11-22T08:30:58.599246883Z stdout F text`, `P` for a partial line), with --tail,
// --since, --until, -t, and -f (follow until the container ends).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { TspodError } from '../errors';
import type { Store } from '../store/store';
import { loadContainer, type Container } from './record';

export interface LogRecord {
  time: string;
  /** ms since the epoch, for comparisons */
  ms: number;
  stream: 'stdout' | 'stderr';
  partial: boolean;
  text: string;
}

export function parseLogLine(line: string): LogRecord | undefined {
  const a = line.indexOf(' ');
  const b = line.indexOf(' ', a + 1);
  const c = line.indexOf(' ', b + 1);
  if (a < 0 || b < 0) return undefined;
  const time = line.slice(0, a);
  const stream = line.slice(a + 1, b);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const tag = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  const text = c < 0 ? '' : line.slice(c + 1);
  return { time, ms: Date.parse(time), stream, partial: tag.split(',').includes('P'), text };
}

/** --since/--until: a duration before now (`5m`, `1h30m`, `10s`), an RFC 3339 time, or Unix seconds. */
export function parseTimeArg(value: string, now = Date.now()): number {
  const dur = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/.exec(value);
  if (dur && value !== '') {
    const [, h, m, s, ms] = dur;
    return now - ((Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0)) * 1000 + Number(ms ?? 0));
  }
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new TspodError(`invalid time "${value}": use a duration (5m), an RFC 3339 time or Unix seconds`);
  return t;
}

export interface LogsOptions {
  follow?: boolean;
  tail?: number;
  since?: number;
  until?: number;
  timestamps?: boolean;
}

export interface LogSink {
  stdout(text: string): void;
  stderr(text: string): void;
}

function logPath(c: Container): string {
  return path.join(c.dir, 'userdata', 'ctr.log');
}

/** Whole lines (partials joined) in order. */
function* records(lines: string[]): Generator<LogRecord> {
  let pending: LogRecord | undefined;
  for (const line of lines) {
    const r = parseLogLine(line);
    if (!r) continue;
    if (pending && pending.stream === r.stream) {
      pending = { ...r, time: pending.time, ms: pending.ms, text: pending.text + r.text };
    } else {
      if (pending) yield pending;
      pending = r;
    }
    if (!pending.partial) {
      yield pending;
      pending = undefined;
    }
  }
  if (pending) yield pending;
}

function emit(r: LogRecord, opts: LogsOptions, sink: LogSink): void {
  if (opts.since !== undefined && r.ms < opts.since) return;
  if (opts.until !== undefined && r.ms > opts.until) return;
  const text = (opts.timestamps ? `${r.time} ` : '') + r.text + (r.partial ? '' : '\n');
  sink[r.stream](text);
}

export async function containerLogs(store: Store, c: Container, opts: LogsOptions, sink: LogSink): Promise<void> {
  const file = logPath(c);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    if (!opts.follow) return;
    // Not written yet (the container has not started): wait for it while following.
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      if (fs.existsSync(file)) return containerLogs(store, c, opts, sink);
      const now = loadContainer(store, c.config.id);
      if (!now || (now.state.status !== 'running' && now.state.status !== 'created')) return;
    }
  }
  try {
    let offset = 0;
    let rest = '';
    const buf = Buffer.alloc(1 << 20);
    const readAvailable = (): string[] => {
      let text = rest;
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, offset);
        if (n <= 0) break;
        offset += n;
        text += buf.toString('utf8', 0, n);
      }
      const cut = text.lastIndexOf('\n');
      rest = cut < 0 ? text : text.slice(cut + 1);
      return cut < 0 ? [] : text.slice(0, cut).split('\n');
    };
    let all = [...records(readAvailable())];
    if (opts.tail !== undefined && opts.tail >= 0) all = all.slice(Math.max(0, all.length - opts.tail));
    for (const r of all) emit(r, opts, sink);
    if (!opts.follow) return;
    for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
      const now = loadContainer(store, c.config.id);
      const running = !!now && (now.state.status === 'running' || now.state.status === 'stopping');
      const lines = readAvailable();
      if (lines.length) delay = 20;
      for (const r of records(lines)) emit(r, opts, sink);
      if (!running) {
        // The monitor writes the exit file after its last log line: one more read ends it.
        for (const r of records(readAvailable())) emit(r, opts, sink);
        return;
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  } finally {
    fs.closeSync(fd);
  }
}
