// Go's time formats as podman prints them: Time.String() for `{{.CreatedAt}}` in templates
// (`2026-11-22 07:34:42.123456789 +0000 UTC`) and RFC3339Nano in inspect and JSON output
// (`2026-11-22T08:30:58.393151527Z`, and `0001-01-01T00:00:00Z` for Go's zero time).
// JavaScript Dates stop at milliseconds, so times carry their nanoseconds beside the seconds.

import { TspodError } from '../errors';

/** A point in time with nanosecond precision and the UTC offset it is shown in. */
export interface GoTime {
  /** Seconds since the Unix epoch (negative before 1970; Go's zero time is -62135596800). */
  sec: number;
  /** Nanoseconds within the second, 0..999999999. */
  nsec: number;
  /** Minutes east of UTC the time is shown in; 0 (the default) is UTC. */
  offsetMin?: number;
  /** Zone abbreviation to print (`CET`); by default `UTC` at offset 0, else the numeric offset. */
  zone?: string;
}

/** A Date, an RFC 3339 string (up to nanoseconds), Unix seconds, or a GoTime. */
export type TimeLike = Date | string | number | GoTime;

/** Go's zero time.Time, 0001-01-01T00:00:00Z, as podman prints unset timestamps. */
export const GO_ZERO_TIME: GoTime = { sec: -62135596800, nsec: 0 };

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

/** Parses an RFC 3339 timestamp, keeping nanoseconds and the offset it was written with. */
export function parseRfc3339(s: string): GoTime {
  const m = RFC3339.exec(s);
  if (!m) throw new TspodError(`invalid timestamp ${JSON.stringify(s)}: expected RFC 3339 such as 2006-01-02T15:04:05Z`);
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  const date = new Date(0);
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), Number(mi), Number(sec), 0);
  let offsetMin = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    offsetMin = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  }
  const t: GoTime = {
    sec: Math.floor(date.getTime() / 1000) - offsetMin * 60,
    nsec: frac ? Number(frac.padEnd(9, '0')) : 0,
  };
  if (offsetMin !== 0) t.offsetMin = offsetMin;
  return t;
}

export function toGoTime(t: TimeLike): GoTime {
  if (t instanceof Date) {
    const ms = t.getTime();
    if (Number.isNaN(ms)) throw new TspodError('invalid time: the date is not valid');
    const sec = Math.floor(ms / 1000);
    return { sec, nsec: (ms - sec * 1000) * 1e6 };
  }
  if (typeof t === 'string') return parseRfc3339(t);
  if (typeof t === 'number') {
    const sec = Math.floor(t);
    return { sec, nsec: Math.round((t - sec) * 1e9) };
  }
  return t;
}

/** Milliseconds since the epoch (nanoseconds beyond are dropped). */
export function toMillis(t: TimeLike): number {
  const g = toGoTime(t);
  return g.sec * 1000 + Math.floor(g.nsec / 1e6);
}

interface Fields {
  date: string;
  clock: string;
  frac: string;
  offsetMin: number;
}

function fields(t: TimeLike): Fields {
  const g = toGoTime(t);
  const offsetMin = g.offsetMin ?? 0;
  const d = new Date((g.sec + offsetMin * 60) * 1000);
  const year = d.getUTCFullYear();
  const date =
    (year < 0 ? '-' + String(-year).padStart(4, '0') : String(year).padStart(4, '0')) +
    '-' +
    two(d.getUTCMonth() + 1) +
    '-' +
    two(d.getUTCDate());
  const clock = two(d.getUTCHours()) + ':' + two(d.getUTCMinutes()) + ':' + two(d.getUTCSeconds());
  // Go's .999999999 layouts drop trailing zeros, and the dot with them.
  const digits = String(g.nsec).padStart(9, '0').replace(/0+$/, '');
  return { date, clock, frac: digits ? '.' + digits : '', offsetMin };
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

function offsetText(offsetMin: number, colon: boolean): string {
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return sign + two(Math.floor(abs / 60)) + (colon ? ':' : '') + two(abs % 60);
}

/** Go's Time.String(): `2006-01-02 15:04:05.999999999 -0700 MST`. */
export function goTimeString(t: TimeLike): string {
  const g = toGoTime(t);
  const f = fields(g);
  const zone = g.zone ?? (f.offsetMin === 0 ? 'UTC' : offsetText(f.offsetMin, false));
  return `${f.date} ${f.clock}${f.frac} ${offsetText(f.offsetMin, false)} ${zone}`;
}

/** Go's time.RFC3339Nano layout: `2006-01-02T15:04:05.999999999Z07:00`. */
export function rfc3339Nano(t: TimeLike): string {
  const f = fields(t);
  return `${f.date}T${f.clock}${f.frac}${f.offsetMin === 0 ? 'Z' : offsetText(f.offsetMin, true)}`;
}

/** Go's time.RFC3339 layout: `2006-01-02T15:04:05Z07:00` (no fraction). */
export function rfc3339(t: TimeLike): string {
  const f = fields(t);
  return `${f.date}T${f.clock}${f.offsetMin === 0 ? 'Z' : offsetText(f.offsetMin, true)}`;
}

/**
 * A time value for template and JSON data, standing for Go's time.Time: templates print it as
 * Time.String() (`{{.Created}}`), JSON as RFC3339Nano, and `{{.Created.Unix}}` gives seconds.
 */
export class Timestamp implements GoTime {
  readonly sec: number;
  readonly nsec: number;
  readonly offsetMin?: number;
  readonly zone?: string;

  constructor(t: TimeLike) {
    const g = toGoTime(t);
    this.sec = g.sec;
    this.nsec = g.nsec;
    if (g.offsetMin) this.offsetMin = g.offsetMin;
    if (g.zone) this.zone = g.zone;
  }

  Unix(): number {
    return this.sec;
  }

  toJSON(): string {
    return rfc3339Nano(this);
  }

  toString(): string {
    return goTimeString(this);
  }
}

/** Dates and Timestamps: the values that stand for Go's time.Time. */
export function isTime(v: unknown): v is Date | Timestamp {
  return v instanceof Date || v instanceof Timestamp;
}
