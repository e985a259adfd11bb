// The one rendering path for list and inspect output, as podman's report package does it:
//   --format json (or `{{json}}`)  -> the whole list as JSON in the command's JSON style
//   no --format / `table` / `table …` -> a header row and the rows, aligned by the tabwriter
//   any other template             -> the template once per row, each ending in a newline
// A template that ranges over `.` itself (`{{range .}}…{{end}}`) is run once over all rows.

import { TspodError } from '../errors';
import { toJson, JSON_STYLES, type JsonStyle } from './json';
import { Tabwriter } from './tabwriter';
import { Template, type TemplateFunc } from './template';

export * from './gofmt';
export * from './json';
export * from './presets';
export * from './tabwriter';
export * from './template';
export * from './time';
export * from './units';

export interface RenderListOptions {
  /** The user's --format; empty or undefined means the command's default. */
  format?: string;
  /**
   * The default table row, e.g. '{{.ID}}\t{{.Image}}' (a leading `table ` is allowed). Without
   * one, the default output is JSON, as for inspect.
   */
  defaultTable?: string;
  /** Column titles by field name, e.g. { ID: 'CONTAINER ID' }; other fields get derived titles. */
  headers?: Record<string, string>;
  /** --noheading: no header row in tables. */
  noHeading?: boolean;
  /** Template name used in error messages (podman uses the command name: `ps`, `images`). */
  name?: string;
  /** Go struct name of a row: unknown fields of a row are errors naming this type. */
  typeName?: string;
  /** What --format json prints, when it differs from the template rows (default: the rows). */
  jsonValue?: unknown;
  /** The JSON dialect (see JSON_STYLES); default: inspect's. */
  jsonStyle?: JsonStyle;
  funcs?: Record<string, TemplateFunc>;
}

const JSON_FORMAT = /^\s*(json|\{\{\s*json\.?\s*\}\})\s*$/;
const RANGE_OVER_DOT = /\{\{\s*range\s*\.\s*\}\}.*\{\{\s*end\s*-?\s*\}\}/;

/** True when --format asks for the whole output as JSON: `json`, `{{json}}`, `{{ json. }}`. */
export function isJsonFormat(format: string): boolean {
  return JSON_FORMAT.test(format);
}

/** True for `table` and `table …` formats, which print a header row and align columns. */
export function isTableFormat(format: string): boolean {
  return format.startsWith('table ') || format.trim() === 'table';
}

/**
 * Rewrites the text outside actions: the escapes `\t` and `\n` typed on a command line become a
 * tab and a newline, and in a table every space separates columns (podman's table rule).
 */
export function expandEscapes(format: string, table: boolean): string {
  let out = '';
  let i = 0;
  while (i < format.length) {
    const open = format.indexOf('{{', i);
    let text = format.slice(i, open < 0 ? format.length : open);
    text = text.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
    out += table ? text.replace(/ /g, '\t') : text;
    if (open < 0) break;
    const close = actionEnd(format, open + 2);
    out += format.slice(open, close);
    i = close;
  }
  return out;
}

/** expandEscapes, and a newline at the end (each row of a list is a line). */
export function normalizeFormat(format: string, table: boolean): string {
  const out = expandEscapes(format, table);
  return out.endsWith('\n') ? out : out + '\n';
}

/** The index just past the `}}` closing the action that starts at `from`, skipping quoted text. */
function actionEnd(s: string, from: number): number {
  let i = from;
  while (i < s.length) {
    const c = s[i];
    if (s.startsWith('}}', i)) return i + 2;
    if (c === '"' || c === "'" || c === '`') {
      i++;
      while (i < s.length && s[i] !== c) i += c !== '`' && s[i] === '\\' ? 2 : 1;
    }
    i++;
  }
  return s.length;
}

/** fatih/camelcase Split as podman's report package uses it: `CreatedHuman` -> Created Human. */
export function splitCamelCase(name: string): string[] {
  const runs: string[][] = [];
  let last = 0;
  for (const ch of name) {
    const cls = /\p{Ll}/u.test(ch) ? 1 : /\p{Lu}/u.test(ch) ? 2 : /\p{Nd}/u.test(ch) ? 3 : 4;
    if (cls === last) runs[runs.length - 1].push(ch);
    else runs.push([ch]);
    last = cls;
  }
  for (let i = 0; i < runs.length - 1; i++) {
    // "PDFL" "oader" -> "PDF" "Loader"
    if (/\p{Lu}/u.test(runs[i][0]) && /\p{Ll}/u.test(runs[i + 1][0])) {
      runs[i + 1].unshift(runs[i].pop()!);
    }
  }
  return runs.filter((r) => r.length > 0).map((r) => r.join(''));
}

/** A column title for a field path: an override (by full path or last name), else derived. */
export function headerFor(path: readonly string[], overrides: Record<string, string> = {}): string {
  const last = path[path.length - 1] ?? '';
  const override = overrides[path.join('.')] ?? overrides[last];
  // Field names split at capitals (CreatedHuman -> CREATED HUMAN); map keys (io.x.y) stay whole.
  const derived = /^[\p{L}\p{N}_]+$/u.test(last) ? splitCamelCase(last).join(' ') : last;
  return (override ?? derived).toUpperCase();
}

/**
 * Renders one value with a user's template (`info --format '{{.Host.Arch}}'`), the escapes `\t`
 * and `\n` in its text understood; no newline is added.
 */
export function renderTemplate(format: string, data: unknown, opts: { name?: string; funcs?: Record<string, TemplateFunc> } = {}): string {
  return Template.compile(expandEscapes(format, false), opts).execute(data);
}

/** Renders rows as `--format` asks; returns the text to print (newline-terminated). */
export function renderList(rows: readonly object[], opts: RenderListOptions = {}): string {
  const format = opts.format ?? '';
  if (isJsonFormat(format) || (format === '' && opts.defaultTable === undefined)) {
    return toJson(opts.jsonValue ?? rows, opts.jsonStyle ?? JSON_STYLES.inspect) + '\n';
  }
  const table = format === '' || isTableFormat(format);
  let body: string;
  if (!table) {
    body = format;
  } else if (format.startsWith('table ') && format.trim() !== 'table') {
    body = format.slice('table '.length);
  } else if (opts.defaultTable !== undefined) {
    body = opts.defaultTable.replace(/^table /, '');
  } else {
    throw new TspodError('--format table needs a template here, e.g. --format "table {{.ID}}"');
  }
  const name = opts.name ?? 'format';
  const tmpl = Template.compile(normalizeFormat(body, table), { name, funcs: opts.funcs });
  const rowSet = new Set<object>(rows);
  const typeName = opts.typeName ?? name;
  const exec = { typeOf: (v: object) => (rowSet.has(v) ? typeName : undefined) };

  if (!table) {
    if (RANGE_OVER_DOT.test(body)) return tmpl.execute(rows, exec);
    return rows.map((row) => tmpl.execute(row, exec)).join('');
  }
  const tw = new Tabwriter();
  if (!opts.noHeading) tw.write(tmpl.executeHeader((path) => headerFor(path, opts.headers)));
  for (const row of rows) tw.write(tmpl.execute(row, exec));
  return tw.flush();
}
