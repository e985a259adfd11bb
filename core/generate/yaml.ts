// A YAML emitter for the subset Kubernetes objects need: maps, sequences, strings, numbers and
// booleans. Keys are sorted (as podman's output, which goes through a Go map); sequences sit at
// their key's indentation (`containers:\n- name: x`), as go-yaml writes them. A string that a
// YAML 1.1 or 1.2 reader would take for something else ("80", "false", "no", a timestamp) or that
// holds special characters is double-quoted, so every value reads back as what it was.

export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue | undefined };

// Plain scalars that YAML 1.1 (go-yaml v2, PyYAML) or 1.2 resolves to a boolean or null.
// `<<` (merge) and `=` (value) are keys with a meaning of their own in YAML 1.1.
const RESERVED = /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~|<<|=)$/;
// Numbers in any base or form a YAML 1.1 or 1.2 reader accepts ("127.0.0.1" is none of them).
const NUMBER_LIKE = [
  /^[-+]?[0-9][0-9_]*$/,
  /^[-+]?0[xX][0-9a-fA-F_]+$/,
  /^[-+]?0[oO][0-7_]+$/,
  /^[-+]?0[bB][01_]+$/,
  /^[-+]?(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?$/,
  /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/,
  /^[-+]?\.(?:inf|Inf|INF)$/,
  /^\.(?:nan|NaN|NAN)$/,
];
const TIMESTAMP_LIKE = /^\d{4}-\d{1,2}-\d{1,2}/;
// Characters a plain scalar may not start with.
const INDICATOR_START = /^[-?:,[\]{}#&*!|>'"%@`\s]/;

function needsQuotes(s: string): boolean {
  if (s === '') return true;
  if (RESERVED.test(s) || NUMBER_LIKE.some((re) => re.test(s)) || TIMESTAMP_LIKE.test(s)) return true;
  if (INDICATOR_START.test(s) && !/^-[^\s]/.test(s)) return true;
  // "- x" would start a sequence; "-x" is a plain string.
  if (/^- /.test(s) || s === '-') return true;
  if (/\s$/.test(s)) return true;
  if (/: |:$| #|\t/.test(s)) return true;
  // Anything outside printable ASCII and common Unicode, and line breaks, go through escapes.
  return /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/.test(s);
}

function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029 || code === 0xfeff) {
      out += '\\u' + code.toString(16).padStart(4, '0');
    } else out += ch;
  }
  return out + '"';
}

export function scalar(v: string | number | boolean | null): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`yaml: cannot write the number ${v}`);
    return String(v);
  }
  return needsQuotes(v) ? quote(v) : v;
}

function isMap(v: YamlValue | undefined): v is { [key: string]: YamlValue | undefined } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function entries(m: { [key: string]: YamlValue | undefined }): Array<[string, YamlValue]> {
  return Object.keys(m)
    .filter((k) => m[k] !== undefined)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((k) => [k, m[k] as YamlValue]);
}

function isEmptyCollection(v: YamlValue): boolean {
  return (Array.isArray(v) && v.length === 0) || (isMap(v) && entries(v).length === 0);
}

function inline(v: YamlValue): string {
  if (Array.isArray(v)) return '[]';
  if (isMap(v)) return '{}';
  return scalar(v);
}

function emitMap(m: { [key: string]: YamlValue | undefined }, indent: number): string {
  const pad = ' '.repeat(indent);
  let out = '';
  for (const [k, v] of entries(m)) {
    const key = scalar(k);
    if (isEmptyCollection(v) || !(Array.isArray(v) || isMap(v))) out += `${pad}${key}: ${inline(v)}\n`;
    else if (Array.isArray(v)) out += `${pad}${key}:\n${emitSeq(v, indent)}`;
    else out += `${pad}${key}:\n${emitMap(v, indent + 2)}`;
  }
  return out;
}

function emitSeq(items: YamlValue[], indent: number): string {
  const pad = ' '.repeat(indent);
  let out = '';
  for (const item of items) {
    if (isEmptyCollection(item) || !(Array.isArray(item) || isMap(item))) {
      out += `${pad}- ${inline(item)}\n`;
      continue;
    }
    // A collection inside a sequence starts on the dash's line, indented two further.
    const body = Array.isArray(item) ? emitSeq(item, indent + 2) : emitMap(item, indent + 2);
    out += `${pad}- ${body.slice(indent + 2)}`;
  }
  return out;
}

/** One YAML document for `value` (a map), without the `---` marker. */
export function toYaml(value: { [key: string]: YamlValue | undefined }): string {
  return emitMap(value, 0);
}
