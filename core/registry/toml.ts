// The subset of TOML that containers' configuration files use (registries.conf and friends):
// comments, [tables], [[arrays of tables]], bare/quoted/dotted keys, basic and literal strings
// (also multi-line), integers, floats, booleans, arrays (across lines, trailing commas) and inline
// tables. Dates and times are refused. A small hand-written parser so that reading a config file
// needs no dependency; errors name the line.

export type TomlValue = string | number | boolean | TomlValue[] | TomlTable;
export interface TomlTable {
  [key: string]: TomlValue;
}

export class TomlError extends Error {
  constructor(readonly line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'TomlError';
  }
}

const BARE_KEY = /[A-Za-z0-9_-]/;

/** Tables created by a [header] or by dotted keys, as opposed to inline tables (which are closed). */
const explicit = new WeakSet<object>();
const inline = new WeakSet<object>();
/** Arrays made by [[x]] headers (extendable), as opposed to inline arrays. */
const tableArrays = new WeakSet<object>();

export function parseToml(text: string): TomlTable {
  return new Parser(text).document();
}

class Parser {
  private i = 0;
  private line = 1;
  private readonly root: TomlTable = {};

  constructor(private readonly s: string) {}

  document(): TomlTable {
    let table = this.root;
    for (;;) {
      this.skipBlankAndComments();
      if (this.i >= this.s.length) return this.root;
      if (this.s[this.i] === '[') {
        table = this.header();
      } else {
        this.keyValue(table);
      }
      this.endOfLine();
    }
  }

  private fail(msg: string): never {
    throw new TomlError(this.line, msg);
  }

  private peek(n = 0): string {
    return this.s[this.i + n] ?? '';
  }

  private skipSpace(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.i++;
  }

  private skipComment(): void {
    if (this.peek() !== '#') return;
    while (this.i < this.s.length && this.peek() !== '\n') {
      const c = this.s.charCodeAt(this.i);
      if ((c < 0x20 && c !== 0x09 && c !== 0x0d) || c === 0x7f) this.fail('control character in a comment');
      this.i++;
    }
  }

  private newline(): boolean {
    if (this.peek() === '\n') {
      this.i++;
      this.line++;
      return true;
    }
    if (this.peek() === '\r' && this.peek(1) === '\n') {
      this.i += 2;
      this.line++;
      return true;
    }
    return false;
  }

  private skipBlankAndComments(): void {
    for (;;) {
      this.skipSpace();
      this.skipComment();
      if (!this.newline()) return;
    }
  }

  /** Whitespace, newlines and comments inside arrays. */
  private skipArraySpace(): void {
    this.skipBlankAndComments();
  }

  private endOfLine(): void {
    this.skipSpace();
    this.skipComment();
    if (this.i >= this.s.length) return;
    if (!this.newline()) this.fail(`unexpected "${this.peek()}" after a value (one key = value per line)`);
  }

  private header(): TomlTable {
    const isArray = this.peek(1) === '[';
    this.i += isArray ? 2 : 1;
    this.skipSpace();
    const keys = this.keyPath();
    this.skipSpace();
    if (isArray ? !(this.peek() === ']' && this.peek(1) === ']') : this.peek() !== ']') {
      this.fail(`unterminated table header, expected "${isArray ? ']]' : ']'}"`);
    }
    this.i += isArray ? 2 : 1;
    const parent = this.walk(this.root, keys.slice(0, -1));
    const last = keys[keys.length - 1];
    const existing = parent[last];
    if (isArray) {
      if (existing === undefined) {
        const arr: TomlValue[] = [];
        tableArrays.add(arr);
        parent[last] = arr;
      } else if (!Array.isArray(existing) || !tableArrays.has(existing)) {
        this.fail(`"${keys.join('.')}" is already defined and is not an array of tables`);
      }
      const t: TomlTable = {};
      explicit.add(t);
      (parent[last] as TomlValue[]).push(t);
      return t;
    }
    if (existing === undefined) {
      const t: TomlTable = {};
      explicit.add(t);
      parent[last] = t;
      return t;
    }
    if (!isTable(existing) || explicit.has(existing) || inline.has(existing)) this.fail(`table "${keys.join('.')}" is defined twice`);
    explicit.add(existing);
    return existing;
  }

  /** Descends through (and creates) intermediate tables; into the last element of a table array. */
  private walk(from: TomlTable, keys: string[], forKeyValue = false): TomlTable {
    let t = from;
    for (const k of keys) {
      let next = t[k];
      if (next === undefined) {
        const created: TomlTable = {};
        if (forKeyValue) explicit.add(created);
        t[k] = created;
        next = created;
      }
      if (Array.isArray(next) && tableArrays.has(next)) next = next[next.length - 1];
      if (!isTable(next) || inline.has(next)) this.fail(`key "${k}" is not a table`);
      t = next;
    }
    return t;
  }

  private keyPath(): string[] {
    const keys = [this.key()];
    for (;;) {
      this.skipSpace();
      if (this.peek() !== '.') return keys;
      this.i++;
      this.skipSpace();
      keys.push(this.key());
    }
  }

  private key(): string {
    const c = this.peek();
    if (c === '"') return this.basicString();
    if (c === "'") return this.literalString();
    const start = this.i;
    while (BARE_KEY.test(this.peek())) this.i++;
    if (this.i === start) this.fail(c === '' || c === '\n' ? 'expected a key' : `unexpected "${c}" where a key was expected`);
    return this.s.slice(start, this.i);
  }

  private keyValue(table: TomlTable): void {
    const keys = this.keyPath();
    this.skipSpace();
    if (this.peek() !== '=') this.fail(`expected "=" after key "${keys.join('.')}"`);
    this.i++;
    this.skipSpace();
    const value = this.value();
    const parent = this.walk(table, keys.slice(0, -1), true);
    const last = keys[keys.length - 1];
    if (Object.prototype.hasOwnProperty.call(parent, last)) this.fail(`key "${keys.join('.')}" is defined twice`);
    parent[last] = value;
  }

  private value(): TomlValue {
    const c = this.peek();
    if (c === '"') return this.peek(1) === '"' && this.peek(2) === '"' ? this.multilineBasic() : this.basicString();
    if (c === "'") return this.peek(1) === "'" && this.peek(2) === "'" ? this.multilineLiteral() : this.literalString();
    if (c === '[') return this.array();
    if (c === '{') return this.inlineTable();
    const m = /^[^\s,\]}#]+/.exec(this.s.slice(this.i, this.i + 256));
    if (!m) this.fail(c === '' || c === '\n' || c === '\r' ? 'missing value' : `unexpected "${c}" where a value was expected`);
    const word = m[0];
    this.i += word.length;
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (/^[+-]?(0|[1-9](_?[0-9])*)$/.test(word)) return Number(word.replace(/_/g, ''));
    if (/^0x[0-9a-fA-F](_?[0-9a-fA-F])*$/.test(word)) return Number.parseInt(word.slice(2).replace(/_/g, ''), 16);
    if (/^0o[0-7](_?[0-7])*$/.test(word)) return Number.parseInt(word.slice(2).replace(/_/g, ''), 8);
    if (/^[+-]?(0|[1-9](_?[0-9])*)(\.[0-9](_?[0-9])*)?([eE][+-]?[0-9](_?[0-9])*)?$/.test(word)) return Number(word.replace(/_/g, ''));
    if (/^[+-]?(inf|nan)$/.test(word)) return word.endsWith('inf') ? (word.startsWith('-') ? -Infinity : Infinity) : NaN;
    if (/^\d{4}-\d{2}-\d{2}/.test(word)) this.fail('dates and times are not supported here');
    this.fail(`invalid value "${word}" (strings need quotes)`);
  }

  private escape(): string {
    const c = this.s[this.i++];
    switch (c) {
      case 'b': return '\b';
      case 't': return '\t';
      case 'n': return '\n';
      case 'f': return '\f';
      case 'r': return '\r';
      case 'e': return '\x1b';
      case '"': return '"';
      case '\\': return '\\';
      case 'u':
      case 'U': {
        const len = c === 'u' ? 4 : 8;
        const hex = this.s.slice(this.i, this.i + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) this.fail(`invalid \\${c} escape`);
        this.i += len;
        const cp = Number.parseInt(hex, 16);
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) this.fail(`invalid unicode escape \\${c}${hex}`);
        return String.fromCodePoint(cp);
      }
      default:
        this.fail(`invalid escape "\\${c ?? ''}" in a string`);
    }
  }

  private basicString(): string {
    this.i++;
    let out = '';
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined || c === '\n' || c === '\r') this.fail('unterminated string');
      this.i++;
      if (c === '"') return out;
      if (c === '\\') out += this.escape();
      else out += this.checkChar(c);
    }
  }

  private literalString(): string {
    this.i++;
    const start = this.i;
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined || c === '\n' || c === '\r') this.fail('unterminated string');
      if (c === "'") break;
      this.checkChar(c);
      this.i++;
    }
    const v = this.s.slice(start, this.i);
    this.i++;
    return v;
  }

  private multilineBasic(): string {
    this.i += 3;
    this.newline(); // a newline right after the opening quotes is not part of the string
    let out = '';
    for (;;) {
      if (this.i >= this.s.length) this.fail('unterminated multi-line string');
      if (this.s.startsWith('"""', this.i)) return out + this.closeMultiline('"');
      const c = this.s[this.i];
      if (c === '\\') {
        this.i++;
        // A line-ending backslash trims the newline and the following whitespace.
        const rest = /^[ \t]*\r?\n/.exec(this.s.slice(this.i));
        if (rest) {
          this.i += rest[0].length;
          this.line++;
          for (;;) {
            const ws = /^[ \t]*/.exec(this.s.slice(this.i))![0];
            this.i += ws.length;
            if (!this.newline()) break;
          }
          continue;
        }
        out += this.escape();
        continue;
      }
      if (this.newline()) {
        out += '\n';
        continue;
      }
      out += this.checkChar(c);
      this.i++;
    }
  }

  private multilineLiteral(): string {
    this.i += 3;
    this.newline();
    let out = '';
    for (;;) {
      if (this.i >= this.s.length) this.fail('unterminated multi-line string');
      if (this.s.startsWith("'''", this.i)) return out + this.closeMultiline("'");
      if (this.newline()) {
        out += '\n';
        continue;
      }
      out += this.checkChar(this.s[this.i]);
      this.i++;
    }
  }

  /** At a closing delimiter: up to two extra quotes before it belong to the string. */
  private closeMultiline(q: string): string {
    let n = 0;
    while (this.s[this.i + n] === q) n++;
    if (n > 5) this.fail('too many quotes at the end of a multi-line string');
    this.i += n;
    return q.repeat(n - 3);
  }

  private checkChar(c: string): string {
    const code = c.charCodeAt(0);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) this.fail('control character in a string');
    return c;
  }

  private array(): TomlValue[] {
    this.i++;
    const out: TomlValue[] = [];
    for (;;) {
      this.skipArraySpace();
      if (this.peek() === ']') {
        this.i++;
        return out;
      }
      if (this.i >= this.s.length) this.fail('unterminated array');
      out.push(this.value());
      this.skipArraySpace();
      if (this.peek() === ',') {
        this.i++;
        continue;
      }
      if (this.peek() === ']') {
        this.i++;
        return out;
      }
      this.fail(this.i >= this.s.length ? 'unterminated array' : `expected "," or "]" in an array, found "${this.peek()}"`);
    }
  }

  private inlineTable(): TomlTable {
    this.i++;
    const t: TomlTable = {};
    this.skipSpace();
    if (this.peek() === '}') {
      this.i++;
      inline.add(t);
      return t;
    }
    for (;;) {
      this.skipSpace();
      this.keyValue(t);
      this.skipSpace();
      if (this.peek() === ',') {
        this.i++;
        continue;
      }
      if (this.peek() === '}') {
        this.i++;
        inline.add(t);
        return t;
      }
      this.fail('expected "," or "}" in an inline table');
    }
  }
}

function isTable(v: TomlValue | undefined): v is TomlTable {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
