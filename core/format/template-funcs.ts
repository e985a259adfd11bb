// The functions a --format template can call: Go's text/template builtins (and, or, not, len,
// index, eq, ne, lt, le, gt, ge, print, printf, println) and podman's report functions (json,
// join, lower, upper, title, split, truncate, pad). Each checks its arguments the way Go's
// reflection-based call would and throws FuncError with Go's wording.

import { compareCodePoints, goTypeName, isGoInt, isMapLike, sprint, sprintf, sprintln } from './gofmt';
import { toJson } from './json';

/** An error from a function; the executor reports it as Go does (`error calling X: …`). */
export class FuncError extends Error {
  /** True for argument type errors, which Go reports without the `error calling` prefix. */
  constructor(
    message: string,
    readonly typeError = false,
  ) {
    super(message);
  }
}

export interface TemplateFunc {
  /** Receives evaluated arguments. */
  fn: (...args: unknown[]) => unknown;
  /** Fixed argument count, or the minimum for variadic functions. */
  arity: number;
  variadic?: boolean;
  /** Works on header text too when a table's header row is rendered (string functions do). */
  textual?: boolean;
}

function wrongType(expected: string, v: unknown): FuncError {
  return new FuncError(`wrong type for value; expected ${expected}; got ${goTypeName(v)}`, true);
}

function str(v: unknown): string {
  if (typeof v === 'string') return v;
  throw wrongType('string', v);
}

function int(v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  throw wrongType('int', v);
}

function strings(v: unknown): string[] {
  if (v === null || v === undefined) return [];
  if (Array.isArray(v)) return v.map((e) => (typeof e === 'string' ? e : sprint([e])));
  throw wrongType('[]string', v);
}

/** Go's truth: zero values, nil and empty collections are false; structs are true. */
export function truth(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  if (isMapLike(v)) return Object.keys(v).length > 0;
  return true;
}

type BasicKind = 'bool' | 'number' | 'string' | 'nil' | 'other';

function basicKind(v: unknown): BasicKind {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number' || typeof v === 'bigint') return 'number';
  if (typeof v === 'string') return 'string';
  return 'other';
}

function eq(a: unknown, ...others: unknown[]): boolean {
  if (others.length === 0) throw new FuncError('missing argument for comparison');
  const ka = basicKind(a);
  for (const b of others) {
    const kb = basicKind(b);
    if (ka !== kb) {
      // Go compares a nil with anything (unequal); other mixes are errors.
      if (ka !== 'nil' && kb !== 'nil') throw new FuncError('incompatible types for comparison');
      continue;
    }
    if (ka === 'other') throw new FuncError(`non-comparable type ${goTypeName(a)}`);
    if (ka === 'nil' || (ka === 'number' ? Number(a) === Number(b) : a === b)) return true;
  }
  return false;
}

function lt(a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka !== 'number' && ka !== 'string') throw new FuncError('invalid type for comparison');
  if (kb !== 'number' && kb !== 'string') throw new FuncError('invalid type for comparison');
  if (ka !== kb) throw new FuncError('incompatible types for comparison');
  if (ka === 'string') return compareCodePoints(a as string, b as string) < 0;
  return Number(a) < Number(b);
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function length(v: unknown): number {
  // A nil slice or map has length 0 in Go; JSON-born data writes those as null.
  if (v === null || v === undefined) return 0;
  if (typeof v === 'string') return utf8Length(v);
  if (Array.isArray(v)) return v.length;
  if (v instanceof Map) return v.size;
  if (isMapLike(v)) return Object.keys(v).length;
  throw new FuncError(`len of type ${goTypeName(v)}`);
}

/** The zero value Go returns for a missing key: "" for string maps, nil otherwise. */
function zeroOf(m: Map<unknown, unknown> | Record<string, unknown>): unknown {
  const values = m instanceof Map ? [...m.values()] : Object.values(m);
  return values.every((e) => typeof e === 'string') ? '' : undefined;
}

function index(item: unknown, ...indexes: unknown[]): unknown {
  if ((item === null || item === undefined) && indexes.length > 0) {
    // A nil map yields its zero value; a nil slice has no elements.
    if (typeof indexes[0] === 'string') return '';
    if (isGoInt(indexes[0])) throw new FuncError(`index out of range: ${indexes[0]}`);
    throw new FuncError('index of untyped nil');
  }
  for (const ix of indexes) {
    if (Array.isArray(item) || typeof item === 'string') {
      if (ix === null || ix === undefined) throw new FuncError('cannot index slice/array with nil');
      if (!isGoInt(ix)) throw new FuncError(`cannot index slice/array with type ${goTypeName(ix)}`);
      const bytes = typeof item === 'string' ? Buffer.from(item, 'utf8') : undefined;
      const len = bytes ? bytes.length : (item as unknown[]).length;
      const x = Number(ix);
      if (x < 0 || x >= len) throw new FuncError(`index out of range: ${x}`);
      item = bytes ? bytes[x] : (item as unknown[])[x];
    } else if (item instanceof Map) {
      item = item.has(ix) ? item.get(ix) : zeroOf(item);
    } else if (isMapLike(item)) {
      if (typeof ix !== 'string') throw new FuncError(`value has type ${goTypeName(ix)}; should be string`);
      item = Object.prototype.hasOwnProperty.call(item, ix) ? (item as Record<string, unknown>)[ix] : zeroOf(item);
    } else {
      throw new FuncError(`can't index item of type ${goTypeName(item)}`);
    }
  }
  return item;
}

/** Go's strings.Title: the first letter of each word upper-cased. */
function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    out += isSeparator(prev) ? upperRune(ch) : ch;
    prev = ch;
  }
  return out;
}

function isSeparator(ch: string): boolean {
  if (/^[A-Za-z0-9_]$/.test(ch)) return false;
  if (ch.codePointAt(0)! < 0x80) return true;
  if (/^[\p{L}\p{Nd}]$/u.test(ch)) return false;
  return /^\s$/u.test(ch);
}

/** Per-rune case mapping as Go's unicode.ToUpper/ToLower: a rune never becomes two. */
function upperRune(ch: string): string {
  const u = ch.toUpperCase();
  return [...u].length === 1 ? u : ch;
}

function lowerRune(ch: string): string {
  const l = ch.toLowerCase();
  return [...l].length === 1 ? l : ch;
}

function mapRunes(s: string, f: (ch: string) => string): string {
  let out = '';
  for (const ch of s) out += f(ch);
  return out;
}

function split(s: string, sep: string): string[] {
  return sep === '' ? [...s] : s.split(sep);
}

export const BUILTIN_FUNCS: Record<string, TemplateFunc> = {
  // and/or are evaluated lazily by the executor; these bodies are for argument counting only.
  and: { fn: (...a) => a.find((v) => !truth(v)) ?? a[a.length - 1], arity: 1, variadic: true },
  or: { fn: (...a) => a.find((v) => truth(v)) ?? a[a.length - 1], arity: 1, variadic: true },
  not: { fn: (v) => !truth(v), arity: 1 },
  len: { fn: length, arity: 1 },
  index: { fn: index, arity: 1, variadic: true },
  eq: { fn: eq, arity: 1, variadic: true },
  ne: { fn: (a, b) => !eq(a, b), arity: 2 },
  lt: { fn: (a, b) => lt(a, b), arity: 2 },
  le: { fn: (a, b) => lt(a, b) || eq(a, b), arity: 2 },
  gt: { fn: (a, b) => !lt(a, b) && !eq(a, b), arity: 2 },
  ge: { fn: (a, b) => !lt(a, b), arity: 2 },
  print: { fn: (...a) => sprint(a), arity: 0, variadic: true, textual: true },
  printf: { fn: (f, ...a) => sprintf(str(f), a), arity: 1, variadic: true, textual: true },
  println: { fn: (...a) => sprintln(a), arity: 0, variadic: true, textual: true },
  json: { fn: (v) => toJson(v), arity: 1 },
  join: { fn: (elems, sep) => strings(elems).join(str(sep)), arity: 2 },
  lower: { fn: (s) => mapRunes(str(s), lowerRune), arity: 1, textual: true },
  upper: { fn: (s) => mapRunes(str(s), upperRune), arity: 1, textual: true },
  title: { fn: (s) => title(str(s)), arity: 1, textual: true },
  split: { fn: (s, sep) => split(str(s), str(sep)), arity: 2 },
  truncate: {
    // podman: the string cut to n (by runes here, so a character is never split).
    fn: (s, n) => [...str(s)].slice(0, Math.max(int(n), 0)).join(''),
    arity: 2,
    textual: true,
  },
  pad: {
    // podman: spaces before and after, but only around a non-empty string.
    fn: (s, before, after) => (str(s) === '' ? '' : ' '.repeat(Math.max(int(before), 0)) + s + ' '.repeat(Math.max(int(after), 0))),
    arity: 3,
    textual: true,
  },
};
