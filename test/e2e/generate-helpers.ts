// Reading generated files the way their consumers do, independently of the code that wrote them:
// systemd unit files (sections, continuation lines, Exec command lines with quoting, C escapes,
// specifiers and `$$`), and Kubernetes objects checked against the API's type definitions.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../lib';

export interface UnitFile {
  /** Section name -> [key, value] in file order (keys repeat: Environment=, ExecStartPre=). */
  sections: Map<string, Array<[string, string]>>;
  /** Comment lines before the first section, without `# `. */
  header: string[];
}

/** Parses a unit file as systemd reads it: `\` at the end of a line joins the next with a space. */
export function parseUnit(text: string): UnitFile {
  const sections = new Map<string, Array<[string, string]>>();
  const header: string[] = [];
  let current: Array<[string, string]> | undefined;
  const raw = text.split('\n');
  for (let i = 0; i < raw.length; i++) {
    let line = raw[i];
    if (/^\s*[#;]/.test(line)) {
      if (!current) header.push(line.replace(/^[#;]\s?/, ''));
      continue;
    }
    while (line.endsWith('\\') && i + 1 < raw.length) line = line.slice(0, -1) + ' ' + raw[++i];
    if (line.trim() === '') continue;
    const sec = /^\[(.+)\]$/.exec(line.trim());
    if (sec) {
      current = [];
      sections.set(sec[1], current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq < 0) throw new Error(`unit file: line outside a section or without '=': ${line}`);
    current.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return { sections, header };
}

export function unitValues(u: UnitFile, section: string, key: string): string[] {
  return (u.sections.get(section) ?? []).filter(([k]) => k === key).map(([, v]) => v);
}

export function unitValue(u: UnitFile, section: string, key: string): string | undefined {
  const all = unitValues(u, section, key);
  return all[all.length - 1];
}

const C_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'", s: ' ' };

/** systemd's splitting of a command line into words: quotes, C escapes (extract_first_word). */
export function splitWords(s: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i])) i++;
    if (i >= s.length) break;
    let w = '';
    let quote: string | undefined;
    for (; i < s.length; i++) {
      const ch = s[i];
      if (!quote && /\s/.test(ch)) break;
      if (ch === '\\') {
        const n = s[++i];
        if (n === undefined) throw new Error(`trailing backslash in ${s}`);
        if (n === 'x') {
          w += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
          i += 2;
        } else if (n === 'u') {
          w += String.fromCodePoint(parseInt(s.slice(i + 1, i + 5), 16));
          i += 4;
        } else if (/[0-7]/.test(n)) {
          w += String.fromCharCode(parseInt(s.slice(i, i + 3), 8));
          i += 2;
        } else if (n in C_ESCAPES) w += C_ESCAPES[n];
        else throw new Error(`unknown escape \\${n} in ${s}`);
        continue;
      }
      if (quote) {
        if (ch === quote) quote = undefined;
        else w += ch;
        continue;
      }
      if (ch === '"' || ch === "'") {
        quote = ch;
        continue;
      }
      w += ch;
    }
    if (quote) throw new Error(`unterminated quote in ${s}`);
    words.push(w);
  }
  return words;
}

/** Specifiers (`%t`, `%n`, `%h`, `%%`...) as the unit's manager would expand them. */
export function expandSpecifiers(word: string, spec: Record<string, string>): string {
  return word.replace(/%(.)/g, (_, c: string) => {
    if (c === '%') return '%';
    if (!(c in spec)) throw new Error(`specifier %${c} has no value in this test`);
    return spec[c];
  });
}

/**
 * The argv an Exec line runs: the first word may carry prefixes (`-`, `@`...), each word is
 * specifier-expanded, then `$$` becomes `$` (the generator never writes $VAR references).
 */
export function execArgv(value: string, spec: Record<string, string>): { argv: string[]; ignoreFailure: boolean } {
  const words = splitWords(value);
  let first = words[0] ?? '';
  let ignoreFailure = false;
  while (/^[-@:+!]/.test(first)) {
    if (first[0] === '-') ignoreFailure = true;
    first = first.slice(1);
  }
  words[0] = first;
  const argv = words.map((w) => {
    const expanded = expandSpecifiers(w, spec);
    if (/\$(?!\$)/.test(expanded.replace(/\$\$/g, ''))) throw new Error(`unexpected variable reference in ${w}`);
    return expanded.replace(/\$\$/g, '$');
  });
  return { argv, ignoreFailure };
}

// ---------------------------------------------------------------------------------------------
// Kubernetes

/** `import()` that TypeScript's CommonJS output leaves alone (kubernetes-models is ESM only). */
const importEsm = new Function('s', 'return import(s)') as (s: string) => Promise<Record<string, unknown>>;

type Model = new (data: unknown) => { validate(): void };

/** Validates a Pod or Service against the JSON schema of the Kubernetes API (kubernetes-models). */
export async function validateKube(doc: { kind?: unknown }): Promise<void> {
  const kind = String(doc.kind);
  const mod = await importEsm(`kubernetes-models/v1/${kind}`);
  const M = mod[kind] as Model;
  new M(doc).validate();
}

const MODELS = path.join(REPO_ROOT, 'node_modules', 'kubernetes-models');
const APIMACHINERY = path.join(REPO_ROOT, 'node_modules', '@kubernetes-models', 'apimachinery');

/** The property names and their types of the interface declared in a kubernetes-models .d.ts. */
function interfaceFields(file: string): Map<string, string> {
  const text = fs.readFileSync(file, 'utf8');
  const m = /export interface I\w+(?: extends [\w, ]+)? \{([\s\S]*?)\n\}/.exec(text);
  if (!m) throw new Error(`no interface in ${file}`);
  const fields = new Map<string, string>();
  let depth = 0;
  for (const line of m[1].split('\n')) {
    if (/^\s*(\/\*\*|\*)/.test(line)) continue;
    // Only the interface's own members: an inline `{ [key: string]: string }` spans lines.
    const f = depth === 0 ? /^\s+"?([A-Za-z0-9$_-]+)"?\??: (.+?);?$/.exec(line) : null;
    if (f) fields.set(f[1], f[2]);
    depth += (line.match(/\{/g) ?? []).length - (line.match(/\}/g) ?? []).length;
  }
  // Imports tell where each referenced type lives.
  const imports = new Map<string, string>();
  for (const im of text.matchAll(/import \{ (\w+) \} from "([^"]+)";/g)) imports.set(im[1], im[2]);
  for (const [k, t] of fields) {
    const ref = /I(IoK8s\w+)/.exec(t);
    if (ref) fields.set(k, `${t}@@${imports.get(`I${ref[1]}`) ?? ''}`);
  }
  return fields;
}

function resolveTypeFile(from: string, spec: string): string {
  if (spec.startsWith('@kubernetes-models/apimachinery/')) return path.join(APIMACHINERY, spec.slice('@kubernetes-models/apimachinery/'.length) + '.d.ts');
  return path.join(path.dirname(from), spec.replace(/\.js$/, '.d.ts'));
}

/**
 * Every key of `value` must be a field of the API type (the JSON schema alone lets unknown keys
 * through: a misspelt `hostIp` would pass it and be dropped by the API server).
 */
export function assertKnownFields(value: unknown, typeFile: string = path.join(MODELS, 'v1', 'Pod.d.ts'), where = ''): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
  const fields = interfaceFields(typeFile);
  for (const [k, v] of Object.entries(value)) {
    const t = fields.get(k);
    if (t === undefined) throw new Error(`${where}${k}: not a field of ${path.basename(typeFile, '.d.ts')}`);
    const [type, spec] = t.split('@@');
    if (!spec) continue;
    const file = resolveTypeFile(typeFile, spec);
    const items = Array.isArray(v) ? v : [v];
    if (/^Array</.test(type) || !Array.isArray(v)) items.forEach((item, i) => assertKnownFields(item, file, `${where}${k}${Array.isArray(v) ? `[${i}]` : ''}.`));
  }
}

export const KUBE_TYPES = {
  pod: path.join(MODELS, 'v1', 'Pod.d.ts'),
  service: path.join(MODELS, 'v1', 'Service.d.ts'),
};
