// JSON as podman writes it, byte for byte. Podman writes three dialects (see the reference outputs):
//   images --format json: 4-space indent, HTML characters escaped (\u003c \u003e \u0026)
//   ps --format json:     2-space indent, HTML escaped, and json-iterator's quirk of printing an
//                         empty object as `{`, a blank indented line, `}`
//   inspect:              5-space indent, HTML characters left as they are
// and templates' `{{json .X}}` is compact with HTML characters left as they are.
//
// Values map as in gofmt.ts: a Map is a Go map (keys sorted), a plain object keeps its key order
// (a struct's field order), undefined members are left out, a Date or Timestamp is an RFC3339Nano
// string.

import { TspodError } from '../errors';
import { compareCodePoints } from './gofmt';
import { isTime, rfc3339Nano } from './time';

export interface JsonStyle {
  /** Indent per level; '' writes compact JSON on one line. */
  indent: string;
  /** Escape <, > and & as Go's encoder does by default. */
  escapeHtml: boolean;
  /** Print `{}` as json-iterator does under indentation: `{`, a blank indented line, `}`. */
  jsoniterEmptyObject?: boolean;
}

export const JSON_STYLES = {
  images: { indent: '    ', escapeHtml: true, jsoniterEmptyObject: true },
  ps: { indent: '  ', escapeHtml: true, jsoniterEmptyObject: true },
  inspect: { indent: '     ', escapeHtml: false },
  template: { indent: '', escapeHtml: false },
} satisfies Record<string, JsonStyle>;

const HEX = '0123456789abcdef';

/** A JSON string literal as Go's encoding/json writes it. */
export function jsonString(s: string, escapeHtml: boolean): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20 || (escapeHtml && (c === 0x3c || c === 0x3e || c === 0x26))) {
      out += '\\u00' + HEX[c >> 4] + HEX[c & 0xf];
    } else if (c === 0x2028 || c === 0x2029) {
      // Go escapes the JavaScript line separators always.
      out += '\\u202' + HEX[c & 0xf];
    } else if (c >= 0xd800 && c <= 0xdfff) {
      // A lone surrogate is invalid UTF-8 to Go, which writes U+FFFD in its place.
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        out += s[i] + s[i + 1];
        i++;
      } else {
        out += '\ufffd';
      }
    } else {
      out += s[i];
    }
  }
  return out + '"';
}

function jsonNumber(n: number): string {
  if (!Number.isFinite(n)) throw new TspodError(`json: unsupported value: ${n === n ? (n > 0 ? '+Inf' : '-Inf') : 'NaN'}`);
  // JavaScript and Go agree on float64 text: plain up to 1e21, exponent form (1e-7, 1e+21) beyond.
  return Object.is(n, -0) ? '-0' : String(n);
}

/** Encodes a value as Go's json.Marshal / MarshalIndent would, in the given style. */
export function toJson(value: unknown, style: JsonStyle = JSON_STYLES.template): string {
  const seen = new Set<object>();
  const nl = style.indent ? '\n' : '';
  const colon = style.indent ? ': ' : ':';

  const encode = (v: unknown, depth: number): string => {
    if (v === null || v === undefined) return 'null';
    switch (typeof v) {
      case 'string':
        return jsonString(v, style.escapeHtml);
      case 'number':
        return jsonNumber(v);
      case 'bigint':
        return v.toString();
      case 'boolean':
        return v ? 'true' : 'false';
      case 'function':
      case 'symbol':
        return 'null';
    }
    if (isTime(v)) return jsonString(rfc3339Nano(v), style.escapeHtml);
    const obj = v as object;
    if (seen.has(obj)) throw new TspodError('json: unsupported value: encountered a cycle');
    seen.add(obj);
    const inner = nl + style.indent.repeat(depth + 1);
    const close = nl + style.indent.repeat(depth);
    let out: string;
    if (Array.isArray(obj)) {
      out = obj.length === 0 ? '[]' : '[' + inner + obj.map((e) => encode(e, depth + 1)).join(',' + inner) + close + ']';
    } else {
      let entries: [string, unknown][];
      if (obj instanceof Map) {
        entries = [...obj.entries()].map(([k, e]) => [String(k), e] as [string, unknown]);
        entries.sort((a, b) => compareCodePoints(a[0], b[0]));
      } else {
        entries = Object.entries(obj);
      }
      entries = entries.filter(([, e]) => e !== undefined && typeof e !== 'function' && typeof e !== 'symbol');
      if (entries.length === 0) {
        out = style.jsoniterEmptyObject && style.indent ? '{' + inner + close + '}' : '{}';
      } else {
        const members = entries.map(([k, e]) => jsonString(k, style.escapeHtml) + colon + encode(e, depth + 1));
        out = '{' + inner + members.join(',' + inner) + close + '}';
      }
    }
    seen.delete(obj);
    return out;
  };

  return encode(value, 0);
}
