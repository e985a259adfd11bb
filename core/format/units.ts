// Human sizes and durations as docker's go-units computes them, and the texts podman builds from
// them: `2.13 MB` in `images`, `56 minutes ago` in CREATED, `Up 2 seconds ago` and
// `Exited (3) 2 seconds ago` in STATUS.

import { TspodError } from '../errors';
import { formatFloat } from './gofmt';
import { toMillis, type TimeLike } from './time';

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

function sizeAndUnit(size: number, base: number, units: readonly string[]): [number, string] {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return [size, units[i]];
}

/** go-units HumanSizeWithPrecision: decimal units, `%.*g` digits, no space (`2.13MB`). */
export function humanSizeWithPrecision(size: number, precision: number): string {
  const [n, unit] = sizeAndUnit(size, 1000, DECIMAL_UNITS);
  return formatFloat(n, 'g', precision) + unit;
}

/** go-units HumanSize: four significant digits (`1.049MB`). */
export function humanSize(size: number): string {
  return humanSizeWithPrecision(size, 4);
}

/** go-units BytesSize: binary units, four significant digits (`3.42GiB`). */
export function bytesSize(size: number): string {
  const [n, unit] = sizeAndUnit(size, 1024, BINARY_UNITS);
  return formatFloat(n, 'g', 4) + unit;
}

/**
 * A size as `podman images` prints SIZE: three significant digits and a space before the unit
 * (`121 MB`, `2.13 MB`, `0 B`).
 */
export function displaySize(size: number): string {
  const s = humanSizeWithPrecision(size, 3);
  let j = s.length - 1;
  while (j >= 0 && !(s[j] >= '0' && s[j] <= '9')) j--;
  return s.slice(0, j + 1) + ' ' + s.slice(j + 1);
}

const SIZE_RE = /^(\d+(?:\.\d+)*) ?([kmgtp])?i?b?$/i;
const PREFIXES = 'kmgtp';

function parseSize(text: string, base: number): number {
  const m = SIZE_RE.exec(text);
  let size = m ? Number(m[1]) : NaN;
  if (!m || Number.isNaN(size)) throw new TspodError(`invalid size: '${text}'`);
  if (m[2]) size *= base ** (PREFIXES.indexOf(m[2].toLowerCase()) + 1);
  return Math.trunc(size);
}

/** go-units FromHumanSize: `32kb` -> 32000 (decimal units, case-insensitive, `b` optional). */
export function fromHumanSize(text: string): number {
  return parseSize(text, 1000);
}

/** go-units RAMInBytes: `32m` -> 33554432 (binary units), as `--memory` takes it. */
export function ramInBytes(text: string): number {
  return parseSize(text, 1024);
}

/**
 * go-units HumanDuration, of a duration in milliseconds: `Less than a second`, `1 second`,
 * `About a minute`, `56 minutes`, `About an hour`, `36 hours`, `13 days`, `6 weeks`, `23 months`,
 * `2 years`. Callers add ` ago`.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

/** `56 minutes ago`: how podman prints CREATED (and .CreatedSince, .RunningFor). */
export function timeAgo(then: TimeLike, now: number = Date.now()): string {
  return humanDuration(now - toMillis(then)) + ' ago';
}

export interface PsStatusInput {
  /** created, running, paused, exited, stopped, … */
  state: string;
  /** Unix seconds the container last started (running). */
  startedAt?: number;
  /** Unix seconds the container last exited (exited/stopped). */
  exitedAt?: number;
  exitCode?: number;
  /** Healthcheck status, shown in parentheses when set (`healthy`). */
  health?: string;
}

/** The STATUS column of `ps`: `Up 2 seconds ago`, `Exited (3) 2 seconds ago`, `Created`. */
export function psStatus(c: PsStatusInput, now: number = Date.now()): string {
  let state: string;
  switch (c.state) {
    case 'running':
      state = 'Up ' + timeAgo(c.startedAt ?? 0, now);
      break;
    case 'exited':
    case 'stopped':
      state = `Exited (${c.exitCode ?? 0}) ` + timeAgo(c.exitedAt ?? 0, now);
      break;
    default:
      state = c.state.charAt(0).toUpperCase() + c.state.slice(1);
  }
  return c.health ? `${state} (${c.health})` : state;
}
