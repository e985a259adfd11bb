// Go's fmt printing rules for JavaScript values, so that `--format` output reads exactly like
// podman's: fmt.Sprint's %v (`[a b]`, `map[k:v]`, `<nil>`), fmt.Sprintf's verbs and flags, and
// strconv.FormatFloat ('e', 'f', 'g' with Go's rounding, which go-units' sizes rely on).
//
// How JavaScript values stand for Go values:
//   string -> string; integral number or bigint -> int; other number -> float64; boolean -> bool;
//   null/undefined -> nil; array -> slice; Map or plain object -> map (printed with sorted keys);
//   an object marked with asStruct() -> struct (fields in insertion order, unknown fields are
//   errors in templates); Date or Timestamp -> time.Time (printed as Go's Time.String()).

import { goTimeString, isTime } from './time';

const STRUCT_TYPE = Symbol('tspod.goStruct');

/**
 * Marks an object as a Go struct named `typeName`: templates then reject unknown fields
 * (`can't evaluate field Foo in type typeName`) instead of printing `<no value>` as for a map,
 * and %v prints it as `{v1 v2}`.
 */
export function asStruct<T extends object>(obj: T, typeName: string): T {
  Object.defineProperty(obj, STRUCT_TYPE, { value: typeName, enumerable: false, configurable: true });
  return obj;
}

/** The struct type name given to asStruct, or undefined for anything else. */
export function structType(v: unknown): string | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  return (v as { [STRUCT_TYPE]?: string })[STRUCT_TYPE];
}

export function isMapLike(v: unknown): v is Map<unknown, unknown> | Record<string, unknown> {
  if (v instanceof Map) return true;
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !isTime(v) && !structType(v);
}

/** Entries of a Map or plain object, sorted the way Go's fmt sorts map keys. */
export function sortedEntries(m: Map<unknown, unknown> | Record<string, unknown>): [unknown, unknown][] {
  const entries: [unknown, unknown][] = m instanceof Map ? [...m.entries()] : Object.entries(m);
  return entries.sort((a, b) => compareKeys(a[0], b[0]));
}

function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return compareCodePoints(String(a), String(b));
}

/** Compares strings by code point, which is Go's byte order of their UTF-8 forms. */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < x.length && i < y.length; i++) {
    if (x[i] !== y[i]) return x[i].codePointAt(0)! - y[i].codePointAt(0)!;
  }
  return x.length - y.length;
}

/** True for numbers Go would hold in an int: integral and printable without an exponent. */
export function isGoInt(v: unknown): v is number | bigint {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < 1e21);
}

/** The Go type name used in messages such as `%!d(string=x)` and `can't evaluate field X in type T`. */
export function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (isGoInt(v)) return 'int';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'function') return 'func';
  if (Array.isArray(v)) return '[]interface {}';
  if (isTime(v)) return 'time.Time';
  const st = structType(v);
  if (st) return st;
  return 'map[string]interface {}';
}

// ---------------------------------------------------------------------------------------------
// strconv.FormatFloat

/** A decimal 0.d × 10^dp with no leading or trailing zeros in d (d === '' is zero). */
interface Decimal {
  d: string;
  dp: number;
}

/** The exact decimal value of a finite, non-negative double. */
function exactDecimal(x: number): Decimal {
  if (x === 0) return { d: '', dp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  let exp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (exp === 0) exp = 1;
  else mant |= 1n << 52n;
  exp -= 1075; // x = mant × 2^exp
  let digits: string;
  let dp: number;
  if (exp >= 0) {
    digits = (mant << BigInt(exp)).toString();
    dp = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-exp)).toString();
    dp = digits.length + exp;
  }
  return trimDecimal({ d: digits, dp });
}

/** The shortest decimal that reads back as x (what Go's 'g' with precision -1 uses). */
function shortestDecimal(x: number): Decimal {
  if (x === 0) return { d: '', dp: 0 };
  const [mant, exp] = x.toExponential().split('e');
  return trimDecimal({ d: mant.replace('.', ''), dp: Number(exp) + 1 });
}

function trimDecimal(a: Decimal): Decimal {
  let d = a.d.replace(/0+$/, '');
  let dp = a.dp;
  const lead = d.length - d.replace(/^0+/, '').length;
  d = d.slice(lead);
  dp -= lead;
  return d === '' ? { d: '', dp: 0 } : { d, dp };
}

/** Rounds to nd digits, ties to even, as Go's decimal.Round. */
function roundDecimal(a: Decimal, nd: number): Decimal {
  if (nd < 0 || nd >= a.d.length) return a;
  let up: boolean;
  if (a.d[nd] === '5' && nd + 1 === a.d.length) {
    up = nd > 0 && (a.d.charCodeAt(nd - 1) - 48) % 2 === 1;
  } else {
    up = a.d[nd] >= '5';
  }
  if (!up) return trimDecimal({ d: a.d.slice(0, nd), dp: a.dp });
  let i = nd - 1;
  while (i >= 0 && a.d[i] === '9') i--;
  if (i < 0) return { d: '1', dp: a.dp + 1 };
  return trimDecimal({ d: a.d.slice(0, i) + String.fromCharCode(a.d.charCodeAt(i) + 1), dp: a.dp });
}

function fmtE(neg: boolean, a: Decimal, prec: number, e: string): string {
  let s = neg ? '-' : '';
  s += a.d.length === 0 ? '0' : a.d[0];
  if (prec > 0) {
    s += '.';
    let i = 1;
    const m = Math.min(a.d.length, prec + 1);
    if (i < m) {
      s += a.d.slice(i, m);
      i = m;
    }
    for (; i <= prec; i++) s += '0';
  }
  let exp = a.d.length === 0 ? 0 : a.dp - 1;
  s += e;
  if (exp < 0) {
    s += '-';
    exp = -exp;
  } else {
    s += '+';
  }
  return s + (exp < 10 ? '0' + exp : String(exp));
}

function fmtF(neg: boolean, a: Decimal, prec: number): string {
  let s = neg ? '-' : '';
  if (a.dp > 0) {
    const m = Math.min(a.d.length, a.dp);
    s += a.d.slice(0, m) + '0'.repeat(a.dp - m);
  } else {
    s += '0';
  }
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) {
      const j = a.dp + i - 1;
      s += j >= 0 && j < a.d.length ? a.d[j] : '0';
    }
  }
  return s;
}

export type FloatFormat = 'e' | 'E' | 'f' | 'g' | 'G';

/** strconv.FormatFloat(x, fmt, prec, 64); prec < 0 means the shortest exact representation. */
export function formatFloat(x: number, fmt: FloatFormat, prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const abs = Math.abs(x);
  const shortest = prec < 0;
  let a: Decimal;
  if (shortest) {
    a = shortestDecimal(abs);
    if (fmt === 'e' || fmt === 'E') prec = Math.max(a.d.length - 1, 0);
    else if (fmt === 'f') prec = Math.max(a.d.length - a.dp, 0);
    else prec = a.d.length;
  } else {
    a = exactDecimal(abs);
    if (fmt === 'e' || fmt === 'E') a = roundDecimal(a, prec + 1);
    else if (fmt === 'f') a = roundDecimal(a, a.dp + prec);
    else {
      if (prec === 0) prec = 1;
      a = roundDecimal(a, prec);
    }
  }
  if (fmt === 'e' || fmt === 'E') return fmtE(neg, a, prec, fmt);
  if (fmt === 'f') return fmtF(neg, a, prec);
  let eprec = prec;
  if (eprec > a.d.length && a.d.length >= a.dp) eprec = a.d.length;
  if (shortest) eprec = 6;
  const exp = a.dp - 1;
  if (exp < -4 || exp >= eprec) {
    if (prec > a.d.length) prec = a.d.length;
    return fmtE(neg, a, prec - 1, fmt === 'g' ? 'e' : 'E');
  }
  if (prec > a.dp) prec = a.d.length;
  return fmtF(neg, a, Math.max(prec - a.dp, 0));
}

// ---------------------------------------------------------------------------------------------
// strconv.Quote

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** strconv.Quote (asciiOnly: strconv.QuoteToASCII). */
export function quote(s: string, asciiOnly = false): string {
  let out = '"';
  for (const ch of s) {
    const r = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (r >= 0xd800 && r <= 0xdfff) out += '\\ufffd';
    else if (PRINTABLE.test(ch) && (!asciiOnly || r < 0x80)) out += ch;
    else out += escapeRune(r);
  }
  return out + '"';
}

function escapeRune(r: number): string {
  switch (r) {
    case 7: return '\\a';
    case 8: return '\\b';
    case 12: return '\\f';
    case 10: return '\\n';
    case 13: return '\\r';
    case 9: return '\\t';
    case 11: return '\\v';
  }
  if (r < 0x20 || r === 0x7f) return '\\x' + hex2(r);
  if (r < 0x10000) return '\\u' + r.toString(16).padStart(4, '0');
  return '\\U' + r.toString(16).padStart(8, '0');
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** strconv.QuoteRune, for %q of an integer. */
function quoteRune(r: number): string {
  if (r === 0x27) return "'\\''";
  if (r === 0x22) return "'\"'";
  const s = quote(String.fromCodePoint(r));
  return "'" + s.slice(1, -1) + "'";
}

// ---------------------------------------------------------------------------------------------
// fmt

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width?: number;
  prec?: number;
  plusV: boolean;
  sharpV: boolean;
}

const PLAIN: Spec = { minus: false, plus: false, sharp: false, space: false, zero: false, plusV: false, sharpV: false };

function runeCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** fmt's pad: width counts runes; zero padding only on the left. */
function pad(s: string, f: Spec): string {
  if (f.width === undefined) return s;
  const n = f.width - runeCount(s);
  if (n <= 0) return s;
  if (f.minus) return s + ' '.repeat(n);
  return (f.zero ? '0' : ' ').repeat(n) + s;
}

function truncateRunes(s: string, f: Spec): string {
  if (f.prec === undefined) return s;
  return [...s].slice(0, f.prec).join('');
}

function utf8Bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function fmtInteger(v: number | bigint, base: number, verb: string, f: Spec): string {
  let n = typeof v === 'bigint' ? v : BigInt(v);
  const negative = n < 0n;
  if (negative) n = -n;
  let digits = n.toString(base);
  if (verb === 'X') digits = digits.toUpperCase();
  let prec = f.prec;
  if (prec === undefined && f.zero && !f.minus && f.width !== undefined) {
    prec = f.width;
    if (negative || f.plus || f.space) prec--;
  }
  if (prec !== undefined) {
    if (prec === 0 && n === 0n) digits = '';
    else if (digits.length < prec) digits = '0'.repeat(prec - digits.length) + digits;
  }
  if (f.sharp) {
    if (base === 2) digits = '0b' + digits;
    else if (base === 8 && !digits.startsWith('0')) digits = '0' + digits;
    else if (base === 16) digits = (verb === 'X' ? '0X' : '0x') + digits;
  }
  if (verb === 'O') digits = '0o' + digits;
  if (negative) digits = '-' + digits;
  else if (f.plus) digits = '+' + digits;
  else if (f.space) digits = ' ' + digits;
  return pad(digits, { ...f, zero: false });
}

function fmtFloatVerb(v: number, verb: string, prec: number, f: Spec): string {
  if (f.prec !== undefined) prec = f.prec;
  let fmtChar = (verb === 'F' ? 'f' : verb) as FloatFormat;
  if (verb === 'v') fmtChar = 'g';
  let num = formatFloat(v, fmtChar, prec);
  if (f.sharp && verb !== 'v') num = sharpFloat(num, fmtChar, prec);
  let sign = '';
  if (num[0] === '-') {
    sign = '-';
    num = num.slice(1);
  } else if (num[0] === '+') {
    num = num.slice(1); // Go always signs +Inf (a space with the space flag)
    sign = f.space && !f.plus ? ' ' : '+';
  } else if (f.plus) {
    sign = '+';
  } else if (f.space) {
    sign = ' ';
  }
  if (num === 'Inf' || num === 'NaN') {
    if (num === 'NaN' && !f.plus && !f.space) sign = '';
    return pad(sign + num, { ...f, zero: false });
  }
  if (f.zero && !f.minus && f.width !== undefined && f.width > runeCount(sign + num)) {
    return sign + '0'.repeat(f.width - runeCount(sign + num)) + num;
  }
  return pad(sign + num, { ...f, zero: false });
}

/** The # flag for floats: always a decimal point; %g keeps its trailing zeros. */
function sharpFloat(num: string, fmtChar: FloatFormat, prec: number): string {
  const eAt = num.search(/[eE]/);
  let body = eAt < 0 ? num : num.slice(0, eAt);
  const tail = eAt < 0 ? '' : num.slice(eAt);
  if (!body.includes('.')) body += '.';
  if (fmtChar === 'g' || fmtChar === 'G') {
    const want = prec < 0 ? 6 : prec;
    const digits = body.replace(/[^0-9]/g, '').replace(/^0+/, '').length || 1;
    if (digits < want) body += '0'.repeat(want - digits);
  }
  return body + tail;
}

function badVerb(verb: string, v: unknown): string {
  if (v === null || v === undefined) return `%!${verb}(<nil>)`;
  return `%!${verb}(${goTypeName(v)}=${formatValue(v, 'v', PLAIN)})`;
}

/** Formats one operand with one verb, as fmt's printArg does. */
function formatValue(v: unknown, verb: string, f: Spec): string {
  if (verb === 'T') return pad(goTypeName(v), f);
  if (v === null || v === undefined) {
    return verb === 'v' ? pad('<nil>', f) : badVerb(verb, v);
  }
  if (typeof v === 'boolean') {
    return verb === 't' || verb === 'v' ? pad(String(v), f) : badVerb(verb, v);
  }
  if (isGoInt(v)) {
    switch (verb) {
      case 'v':
      case 'd':
        return fmtInteger(v, 10, verb, f);
      case 'b':
        return fmtInteger(v, 2, verb, f);
      case 'o':
      case 'O':
        return fmtInteger(v, 8, verb, f);
      case 'x':
      case 'X':
        return fmtInteger(v, 16, verb, f);
      case 'c':
        return pad(String.fromCodePoint(Number(v)), f);
      case 'q':
        return pad(quoteRune(Number(v)), f);
      case 'U': {
        let s = 'U+' + Number(v).toString(16).toUpperCase().padStart(4, '0');
        if (f.sharp) s += " '" + String.fromCodePoint(Number(v)) + "'";
        return pad(s, f);
      }
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G':
        // Go's %f of an int is a bad verb, but a JavaScript number cannot say whether Go held an
        // int or a float64 that happens to be whole (2.0 CPUs): format it as the float.
        return fmtFloatVerb(Number(v), verb, verb === 'g' || verb === 'G' ? -1 : 6, f);
      default:
        return badVerb(verb, v);
    }
  }
  if (typeof v === 'number') {
    switch (verb) {
      case 'v':
        return fmtFloatVerb(v, 'v', -1, f);
      case 'g':
      case 'G':
        return fmtFloatVerb(v, verb, -1, f);
      case 'e':
      case 'E':
      case 'f':
      case 'F':
        return fmtFloatVerb(v, verb, 6, f);
      default:
        return badVerb(verb, v);
    }
  }
  if (typeof v === 'string') return formatString(v, verb, f);
  if (isTime(v)) {
    return ['v', 's', 'q', 'x', 'X'].includes(verb) ? formatString(goTimeString(v), verb, f) : badVerb(verb, v);
  }
  if (typeof v === 'function') return verb === 'v' || verb === 'p' ? pad('0x0', f) : badVerb(verb, v);
  if (Array.isArray(v)) {
    return '[' + v.map((e) => formatValue(e, verb, f)).join(' ') + ']';
  }
  const st = structType(v);
  if (st) {
    const parts = Object.entries(v as Record<string, unknown>).map(([k, e]) =>
      (f.plusV ? k + ':' : '') + formatValue(e, verb, f),
    );
    return '{' + parts.join(' ') + '}';
  }
  if (isMapLike(v)) {
    const parts = sortedEntries(v).map(([k, e]) => formatValue(k, verb, f) + ':' + formatValue(e, verb, f));
    return 'map[' + parts.join(' ') + ']';
  }
  return pad(String(v), f);
}

function formatString(s: string, verb: string, f: Spec): string {
  switch (verb) {
    case 'v':
      return f.sharpV ? pad(quote(s), f) : pad(truncateRunes(s, f), f);
    case 's':
      return pad(truncateRunes(s, f), f);
    case 'q': {
      const t = truncateRunes(s, f);
      if (f.sharp && !/[`\u0000-\u0008\u000a-\u001f\u007f\ufeff]/.test(t)) return pad('`' + t + '`', f);
      return pad(quote(t, f.plus), f);
    }
    case 'x':
    case 'X': {
      let bytes = utf8Bytes(s);
      if (f.prec !== undefined) bytes = bytes.slice(0, f.prec);
      const parts = [...bytes].map((b) => {
        const h = verb === 'X' ? hex2(b).toUpperCase() : hex2(b);
        return f.sharp ? (verb === 'X' ? '0X' : '0x') + h : h;
      });
      let out: string;
      if (f.space) out = parts.join(' ');
      else out = f.sharp ? (parts.length ? parts[0] + parts.slice(1).map((p) => p.slice(2)).join('') : '') : parts.join('');
      return pad(out, f);
    }
    default:
      return badVerb(verb, s);
  }
}

/** The %v text of one value, as fmt.Sprint(v) prints it. */
export function sprintValue(v: unknown): string {
  return formatValue(v, 'v', PLAIN);
}

/** fmt.Sprint: operands printed with %v, a space between two operands when neither is a string. */
export function sprint(args: readonly unknown[]): string {
  let out = '';
  for (let i = 0; i < args.length; i++) {
    if (i > 0 && typeof args[i] !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += sprintValue(args[i]);
  }
  return out;
}

/** fmt.Sprintln: operands printed with %v, separated by spaces, and a newline. */
export function sprintln(args: readonly unknown[]): string {
  return args.map(sprintValue).join(' ') + '\n';
}

/** fmt.Sprintf with Go's verbs, flags, width and precision (`*` included) and its error texts. */
export function sprintf(format: string, args: readonly unknown[]): string {
  let out = '';
  let argNum = 0;
  let i = 0;
  const end = format.length;
  while (i < end) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const f: Spec = { ...PLAIN };
    for (; i < end; i++) {
      const c = format[i];
      if (c === '#') f.sharp = true;
      else if (c === '0') f.zero = true;
      else if (c === '+') f.plus = true;
      else if (c === '-') f.minus = true;
      else if (c === ' ') f.space = true;
      else break;
    }
    if (f.minus) f.zero = false; // Go pads with zeros only on the left
    if (format[i] === '*') {
      i++;
      const w = argNum < args.length ? args[argNum] : undefined;
      argNum++;
      if (typeof w === 'number' && Number.isInteger(w)) {
        f.width = Math.abs(w);
        if (w < 0) f.minus = true;
      } else {
        out += '%!(BADWIDTH)';
      }
    } else {
      const m = /^\d+/.exec(format.slice(i));
      if (m) {
        f.width = Number(m[0]);
        i += m[0].length;
      }
    }
    if (format[i] === '.') {
      i++;
      if (format[i] === '*') {
        i++;
        const p = argNum < args.length ? args[argNum] : undefined;
        argNum++;
        if (typeof p === 'number' && Number.isInteger(p) && p >= 0) f.prec = p;
        else out += '%!(BADPREC)';
      } else {
        const m = /^\d+/.exec(format.slice(i));
        f.prec = m ? Number(m[0]) : 0;
        if (m) i += m[0].length;
      }
    }
    if (i >= end) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const arg = args[argNum++];
    if (verb === 'v') {
      if (f.sharp) {
        f.sharpV = true;
        f.sharp = false;
      }
      if (f.plus) {
        f.plusV = true;
        f.plus = false;
      }
    }
    out += formatValue(arg, verb, f);
  }
  if (argNum < args.length) {
    const extra = args.slice(argNum).map((a) => (a === null || a === undefined ? '<nil>' : `${goTypeName(a)}=${sprintValue(a)}`));
    out += `%!(EXTRA ${extra.join(', ')})`;
  }
  return out;
}
