// Lexer and parser for the subset of Go's text/template that `--format` takes, following the
// grammar and error texts of Go's text/template/parse: actions, trim markers `{{- -}}`, comments,
// pipelines with `|`, parenthesised pipelines, variables and their scopes, if/else if/with/range
// (with else, break, continue), literals (strings, raw strings, chars, numbers, bools, nil).
// `define`, `template` and `block` are refused: a --format string is one template.

import { TspodError } from '../errors';

// ---- AST --------------------------------------------------------------------------------------

export interface Pos {
  pos: number;
  end: number;
}

export type Arg =
  | (Pos & { kind: 'field'; ident: string[] }) // .A.B
  | (Pos & { kind: 'variable'; ident: string[] }) // $x.A.B ($ alone is the data)
  | (Pos & { kind: 'chain'; node: Arg; ident: string[] }) // (pipeline).A.B
  | (Pos & { kind: 'dot' })
  | (Pos & { kind: 'nil' })
  | (Pos & { kind: 'bool'; value: boolean })
  | (Pos & { kind: 'number'; value: number | bigint })
  | (Pos & { kind: 'string'; value: string })
  | (Pos & { kind: 'identifier'; name: string }) // a function
  | (Pos & { kind: 'pipe'; pipe: Pipe }); // ( pipeline )

export interface Command extends Pos {
  args: Arg[];
}

export interface Pipe extends Pos {
  decl: string[];
  isAssign: boolean;
  cmds: Command[];
}

export interface ControlNode extends Pos {
  kind: 'if' | 'with' | 'range';
  pipe: Pipe;
  list: Node[];
  elseList?: Node[];
}

export type Node =
  | { kind: 'text'; text: string }
  | (Pos & { kind: 'action'; pipe: Pipe })
  | ControlNode
  | (Pos & { kind: 'break' | 'continue' });

// ---- lexer ------------------------------------------------------------------------------------

type ItemType =
  | 'text'
  | 'leftDelim'
  | 'rightDelim'
  | 'space'
  | 'field'
  | 'variable'
  | 'identifier'
  | 'keyword'
  | 'bool'
  | 'nil'
  | 'dot'
  | 'string'
  | 'rawString'
  | 'charConstant'
  | 'number'
  | 'pipe'
  | 'leftParen'
  | 'rightParen'
  | 'declare'
  | 'assign'
  | 'char'
  | 'error'
  | 'eof';

interface Item {
  type: ItemType;
  pos: number;
  val: string;
}

const KEYWORDS = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'template', 'with']);

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isAlnum = (c: string): boolean => c === '_' || /^[\p{L}\p{Nd}]$/u.test(c);

class ParseError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

/**
 * Splits template text into items. A lexing error becomes a final 'error' item, so that (as in
 * Go, whose parser pulls items one at a time) an earlier parse error is the one reported.
 */
function lex(input: string): Item[] {
  const items: Item[] = [];
  try {
    lexInto(input, items);
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    items.push({ type: 'error', pos: err.pos, val: err.message });
  }
  return items;
}

function lexInto(input: string, items: Item[]): void {
  let pos = 0;
  let trimNextText = false;

  const emitText = (text: string, at: number, trimRight: boolean): void => {
    if (trimNextText) {
      const t = text.replace(/^[ \t\r\n]+/, '');
      at += text.length - t.length;
      text = t;
      trimNextText = false;
    }
    if (trimRight) text = text.replace(/[ \t\r\n]+$/, '');
    if (text.length > 0) items.push({ type: 'text', pos: at, val: text });
  };

  const atRightDelim = (p: number): { trim: boolean; len: number } | undefined => {
    if (isSpace(input[p] ?? '') && input.startsWith('-}}', p + 1)) return { trim: true, len: 4 };
    if (input.startsWith('}}', p)) return { trim: false, len: 2 };
    return undefined;
  };

  while (pos < input.length) {
    const open = input.indexOf('{{', pos);
    if (open < 0) {
      emitText(input.slice(pos), pos, false);
      pos = input.length;
      break;
    }
    const leftTrim = input[open + 2] === '-' && isSpace(input[open + 3] ?? '');
    emitText(input.slice(pos, open), pos, leftTrim);
    let p = open + 2 + (leftTrim ? 2 : 0);
    // A comment fills the whole action: {{/* ... */}} with optional trim markers.
    if (input.startsWith('/*', p)) {
      const close = input.indexOf('*/', p + 2);
      if (close < 0) throw new ParseError('unclosed comment', open);
      const rd = atRightDelim(close + 2);
      if (!rd) throw new ParseError('comment ends before closing delimiter', open);
      pos = close + 2 + rd.len;
      trimNextText = rd.trim;
      continue;
    }
    items.push({ type: 'leftDelim', pos: open, val: '{{' });
    let parenDepth = 0;
    for (;;) {
      const rd = atRightDelim(p);
      if (rd) {
        if (parenDepth > 0) throw new ParseError('unclosed left paren', p);
        items.push({ type: 'rightDelim', pos: p, val: '}}' });
        p += rd.len;
        trimNextText = rd.trim;
        break;
      }
      if (p >= input.length) throw new ParseError('unclosed action', open);
      const c = input[p];
      const start = p;
      if (isSpace(c)) {
        let q = p;
        while (q < input.length && isSpace(input[q])) q++;
        if (input.startsWith('-}}', q)) q--; // the last space belongs to the ` -}}` marker
        if (q > p) items.push({ type: 'space', pos: p, val: input.slice(p, q) });
        p = q;
        continue;
      }
      if (c === '=') {
        items.push({ type: 'assign', pos: p, val: '=' });
        p++;
      } else if (c === ':') {
        if (input[p + 1] !== '=') throw new ParseError('expected :=', p);
        items.push({ type: 'declare', pos: p, val: ':=' });
        p += 2;
      } else if (c === '|') {
        items.push({ type: 'pipe', pos: p, val: '|' });
        p++;
      } else if (c === '"') {
        p++;
        while (input[p] !== '"') {
          if (input[p] === '\\') p++;
          if (p >= input.length || input[p] === '\n') throw new ParseError('unterminated quoted string', start);
          p++;
        }
        p++;
        items.push({ type: 'string', pos: start, val: input.slice(start, p) });
      } else if (c === '`') {
        const close = input.indexOf('`', p + 1);
        if (close < 0) throw new ParseError('unterminated raw quoted string', start);
        p = close + 1;
        items.push({ type: 'rawString', pos: start, val: input.slice(start, p) });
      } else if (c === "'") {
        p++;
        while (input[p] !== "'") {
          if (input[p] === '\\') p++;
          if (p >= input.length || input[p] === '\n') throw new ParseError('unterminated character constant', start);
          p++;
        }
        p++;
        items.push({ type: 'charConstant', pos: start, val: input.slice(start, p) });
      } else if (c === '$') {
        p++;
        while (p < input.length && isAlnum(input[p])) p++;
        items.push({ type: 'variable', pos: start, val: input.slice(start, p) });
        checkTerminator(input, p);
      } else if (c === '.' && /[0-9]/.test(input[p + 1] ?? '')) {
        p = lexNumber(input, p, items);
      } else if (c === '.') {
        p++;
        while (p < input.length && isAlnum(input[p])) p++;
        items.push({ type: p === start + 1 ? 'dot' : 'field', pos: start, val: input.slice(start, p) });
        checkTerminator(input, p);
      } else if (c === '+' || c === '-' || /[0-9]/.test(c)) {
        p = lexNumber(input, p, items);
      } else if (isAlnum(c)) {
        while (p < input.length && isAlnum(input[p])) p++;
        const word = input.slice(start, p);
        checkTerminator(input, p);
        const type: ItemType = KEYWORDS.has(word)
          ? 'keyword'
          : word === 'true' || word === 'false'
            ? 'bool'
            : word === 'nil'
              ? 'nil'
              : 'identifier';
        items.push({ type, pos: start, val: word });
      } else if (c === '(') {
        parenDepth++;
        items.push({ type: 'leftParen', pos: p, val: '(' });
        p++;
      } else if (c === ')') {
        parenDepth--;
        if (parenDepth < 0) throw new ParseError('unexpected right paren', p);
        items.push({ type: 'rightParen', pos: p, val: ')' });
        p++;
      } else if (c.charCodeAt(0) < 0x7f && c.charCodeAt(0) > 0x20) {
        items.push({ type: 'char', pos: p, val: c });
        p++;
      } else {
        const cp = input.codePointAt(p)!;
        throw new ParseError(`unrecognized character in action: U+${cp.toString(16).toUpperCase().padStart(4, '0')}`, p);
      }
    }
    pos = p;
  }
  items.push({ type: 'eof', pos: input.length, val: '' });
}

function checkTerminator(input: string, p: number): void {
  const c = input[p];
  if (c === undefined || isSpace(c) || '.,|:()'.includes(c) || input.startsWith('}}', p)) return;
  throw new ParseError(`bad character U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} '${c}'`, p);
}

function lexNumber(input: string, p: number, items: Item[]): number {
  const m = /^[+-]?(0[xX][0-9a-fA-F_]*\.?[0-9a-fA-F_]*([pP][+-]?[0-9_]+)?|0[bB][01_]+|0[oO][0-7_]+|[0-9_]*\.?[0-9_]*([eE][+-]?[0-9_]+)?)/.exec(input.slice(p));
  const text = m ? m[0] : '';
  const end = p + text.length;
  if (text === '' || text === '+' || text === '-' || isAlnum(input[end] ?? '')) {
    throw new ParseError(`bad number syntax: ${JSON.stringify(input.slice(p, end + 1))}`, p);
  }
  items.push({ type: 'number', pos: p, val: text });
  return end;
}

/** A number literal's value: integers stay exact (bigint past 2^53), others are float64. */
function numberValue(text: string): number | bigint {
  const t = text.replace(/_/g, '');
  const neg = t.startsWith('-');
  const body = t.replace(/^[+-]/, '');
  let intText: string | undefined;
  if (/^0[xX][0-9a-fA-F]+$/.test(body) || /^0[bB][01]+$/.test(body) || /^0[oO][0-7]+$/.test(body)) intText = body;
  else if (/^0[0-7]+$/.test(body)) intText = '0o' + body.slice(1);
  else if (/^[0-9]+$/.test(body)) intText = body;
  if (intText !== undefined) {
    const big = BigInt(intText) * (neg ? -1n : 1n);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
  const value = /^0[xX]/.test(body) ? NaN : Number(body);
  if (Number.isNaN(value)) throw new Error(`illegal number syntax: ${JSON.stringify(text)}`);
  return neg ? -value : value;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', "'": "'", '"': '"',
};

/** strconv.Unquote for "..." and '...' literals. */
function unquote(lit: string): string {
  const q = lit[0];
  const body = lit.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      if (c === q) throw new Error('invalid syntax');
      out += c;
      continue;
    }
    const e = body[++i];
    if (e in SIMPLE_ESCAPES && (e !== "'" || q === "'") && (e !== '"' || q === '"')) {
      out += SIMPLE_ESCAPES[e];
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + n);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n) throw new Error('invalid syntax');
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new Error('invalid syntax');
      out += String.fromCodePoint(cp);
      i += n;
    } else if (e !== undefined && /[0-7]/.test(e)) {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct) || parseInt(oct, 8) > 255) throw new Error('invalid syntax');
      out += String.fromCharCode(parseInt(oct, 8));
      i += 2;
    } else {
      throw new Error('invalid syntax');
    }
  }
  return out;
}

// ---- parser -----------------------------------------------------------------------------------

function describeItem(it: Item): string {
  switch (it.type) {
    case 'eof':
      return 'EOF';
    case 'keyword':
      return `<${it.val}>`;
    case 'space':
      return 'space';
    case 'rightDelim':
    case 'leftDelim':
      return `"${it.val}"`;
  }
  return it.val.length > 10 ? JSON.stringify(it.val.slice(0, 10)) + '...' : JSON.stringify(it.val);
}

// Nesting of parentheses and control structures; deeper input is refused rather than left to
// exhaust the JavaScript stack (Go's parser has such a limit too).
const MAX_DEPTH = 1000;

class Parser {
  private i = 0;
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  private depth = 0;

  constructor(
    private readonly items: Item[],
    private readonly hasFunction: (name: string) => boolean,
  ) {}

  parse(): Node[] {
    const list: Node[] = [];
    for (;;) {
      if (this.peek().type === 'eof') return list;
      const n = this.textOrAction();
      if (n === 'else' || n === 'end') {
        throw new ParseError(`unexpected {{${n}}}`, this.items[this.i - 1].pos);
      }
      if (n) list.push(n);
    }
  }

  private next(): Item {
    const it = this.items[this.i++];
    if (it.type === 'error') throw new ParseError(it.val, it.pos);
    return it;
  }
  private backup(n = 1): void {
    this.i -= n;
  }
  private peek(): Item {
    const it = this.items[this.i];
    if (it.type === 'error') throw new ParseError(it.val, it.pos);
    return it;
  }
  private nextNonSpace(): Item {
    let it = this.next();
    while (it.type === 'space') it = this.next();
    return it;
  }
  private peekNonSpace(): Item {
    const it = this.nextNonSpace();
    this.backup();
    return it;
  }
  private expect(type: ItemType, context: string): Item {
    const it = this.nextNonSpace();
    if (it.type !== type) this.unexpected(it, context);
    return it;
  }
  private unexpected(it: Item, context: string): never {
    throw new ParseError(`unexpected ${describeItem(it)} in ${context}`, it.pos);
  }

  /** A list of nodes up to {{else}} or {{end}}, which it returns (the closing action consumed). */
  private itemList(): { list: Node[]; next: 'else' | 'end'; pos: number } {
    const list: Node[] = [];
    for (;;) {
      if (this.peek().type === 'eof') throw new ParseError('unexpected EOF', this.peek().pos);
      const n = this.textOrAction();
      if (n === 'else' || n === 'end') return { list, next: n, pos: this.items[this.i - 1].pos };
      if (n) list.push(n);
    }
  }

  private textOrAction(): Node | 'else' | 'end' | undefined {
    const it = this.next();
    if (it.type === 'text') return { kind: 'text', text: it.val };
    if (it.type === 'leftDelim') return this.action(it.pos);
    this.unexpected(it, 'input');
  }

  private action(start: number): Node | 'else' | 'end' {
    const it = this.nextNonSpace();
    if (it.type === 'keyword') {
      switch (it.val) {
        case 'else': {
          // `{{else if …}}` and `{{else with …}}` are `{{else}}{{if …}}…{{end}}{{end}}`.
          const peek = this.peekNonSpace();
          if (peek.type === 'keyword' && (peek.val === 'if' || peek.val === 'with')) return 'else';
          this.expect('rightDelim', 'else');
          return 'else';
        }
        case 'end':
          this.expect('rightDelim', 'end');
          return 'end';
        case 'if':
        case 'with':
        case 'range':
          return this.control(it.val, start);
        case 'break':
        case 'continue': {
          if (this.rangeDepth === 0) throw new ParseError(`{{${it.val}}} outside {{range}}`, it.pos);
          const end = this.expect('rightDelim', it.val);
          return { kind: it.val, pos: start, end: end.pos + 2 };
        }
        default:
          throw new ParseError(`{{${it.val}}} is not supported in --format templates`, it.pos);
      }
    }
    this.backup();
    const pipe = this.pipeline('command', 'rightDelim');
    return { kind: 'action', pos: start, end: this.items[this.i - 1].pos + 2, pipe };
  }

  private control(kind: 'if' | 'with' | 'range', start: number): Node {
    this.enter(start);
    const mark = this.vars.length;
    const pipe = this.pipeline(kind, 'rightDelim');
    if (kind === 'range') this.rangeDepth++;
    const body = this.itemList();
    if (kind === 'range') this.rangeDepth--;
    let elseList: Node[] | undefined;
    if (body.next === 'else') {
      const peek = this.peekNonSpace();
      if (kind !== 'range' && peek.type === 'keyword' && peek.val === kind) {
        // else if / else with: the nested control consumes the one {{end}}.
        this.nextNonSpace();
        elseList = [this.control(kind, peek.pos)];
      } else {
        const rest = this.itemList();
        if (rest.next !== 'end') throw new ParseError('expected end; found {{else}}', rest.pos);
        elseList = rest.list;
      }
    }
    this.vars.length = mark;
    this.depth--;
    return { kind, pos: start, end: this.items[this.i - 1].pos + 2, pipe, list: body.list, elseList };
  }

  private enter(pos: number): void {
    if (++this.depth > MAX_DEPTH) throw new ParseError('max expression depth exceeded', pos);
  }

  private pipeline(context: string, end: 'rightDelim' | 'rightParen'): Pipe {
    const first = this.peekNonSpace();
    const pipe: Pipe = { pos: first.pos, end: first.pos, decl: [], isAssign: false, cmds: [] };
    for (;;) {
      const v = this.peekNonSpace();
      if (v.type !== 'variable') break;
      const save = this.i;
      this.nextNonSpace();
      const after = this.peekNonSpace();
      if (after.type === 'assign' || after.type === 'declare') {
        this.nextNonSpace();
        pipe.isAssign = after.type === 'assign';
        if (pipe.isAssign && !this.vars.includes(v.val)) throw new ParseError(`undefined variable "${v.val}"`, v.pos);
        pipe.decl.push(v.val);
        this.vars.push(v.val);
        break;
      }
      if (after.type === 'char' && after.val === ',') {
        this.nextNonSpace();
        pipe.decl.push(v.val);
        this.vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const n = this.peekNonSpace();
          if (n.type === 'variable') continue;
          throw new ParseError('range can only initialize variables', n.pos);
        }
        throw new ParseError(`too many declarations in ${context}`, after.pos);
      }
      this.i = save;
      break;
    }
    for (;;) {
      const it = this.nextNonSpace();
      if (it.type === end) {
        pipe.end = it.pos + (end === 'rightParen' ? 1 : 0);
        this.checkPipeline(pipe, context, it);
        return pipe;
      }
      switch (it.type) {
        case 'bool':
        case 'charConstant':
        case 'dot':
        case 'field':
        case 'identifier':
        case 'number':
        case 'nil':
        case 'rawString':
        case 'string':
        case 'variable':
        case 'leftParen':
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(it, context);
      }
    }
  }

  private checkPipeline(pipe: Pipe, context: string, at: Item): void {
    if (pipe.cmds.length === 0) throw new ParseError(`missing value for ${context}`, at.pos);
    pipe.cmds.slice(1).forEach((c, i) => {
      if (['bool', 'dot', 'nil', 'number', 'string'].includes(c.args[0].kind)) {
        throw new ParseError(`non executable command in pipeline stage ${i + 2}`, c.pos);
      }
    });
  }

  private command(): Command {
    const cmd: Command = { pos: this.peekNonSpace().pos, end: 0, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const it = this.next();
      if (it.type === 'space') continue;
      if (it.type === 'rightDelim' || it.type === 'rightParen') this.backup();
      else if (it.type !== 'pipe') this.unexpected(it, 'operand');
      break;
    }
    if (cmd.args.length === 0) throw new ParseError('empty command', cmd.pos);
    cmd.end = cmd.args[cmd.args.length - 1].end;
    return cmd;
  }

  private operand(): Arg | undefined {
    const node = this.term();
    if (!node || this.peek().type !== 'field') return node;
    const ident: string[] = [];
    let end = node.end;
    while (this.peek().type === 'field') {
      const f = this.next();
      ident.push(...f.val.slice(1).split('.'));
      end = f.pos + f.val.length;
    }
    switch (node.kind) {
      case 'field':
      case 'variable':
        return { ...node, ident: [...node.ident, ...ident], end };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        throw new ParseError(`unexpected . after term ${JSON.stringify(this.src(node))}`, node.pos);
      default:
        return { kind: 'chain', pos: node.pos, end, node, ident };
    }
  }

  private src(a: Pos): string {
    return this.items.filter((it) => it.pos >= a.pos && it.pos < a.end).map((it) => it.val).join('');
  }

  private term(): Arg | undefined {
    const it = this.nextNonSpace();
    const pos = it.pos;
    const end = it.pos + it.val.length;
    switch (it.type) {
      case 'identifier':
        if (!this.hasFunction(it.val)) throw new ParseError(`function "${it.val}" not defined`, it.pos);
        return { kind: 'identifier', name: it.val, pos, end };
      case 'dot':
        return { kind: 'dot', pos, end };
      case 'nil':
        return { kind: 'nil', pos, end };
      case 'variable': {
        const [name, ...fields] = it.val.split('.');
        if (!this.vars.includes(name)) throw new ParseError(`undefined variable "${name}"`, it.pos);
        return { kind: 'variable', ident: [name, ...fields], pos, end };
      }
      case 'field':
        return { kind: 'field', ident: it.val.slice(1).split('.'), pos, end };
      case 'bool':
        return { kind: 'bool', value: it.val === 'true', pos, end };
      case 'number':
        try {
          return { kind: 'number', value: numberValue(it.val), pos, end };
        } catch (err) {
          throw new ParseError((err as Error).message, it.pos);
        }
      case 'charConstant': {
        let s: string;
        try {
          s = unquote(it.val);
        } catch {
          throw new ParseError(`malformed character constant: ${it.val}`, it.pos);
        }
        if ([...s].length !== 1) throw new ParseError(`malformed character constant: ${it.val}`, it.pos);
        return { kind: 'number', value: s.codePointAt(0)!, pos, end };
      }
      case 'leftParen': {
        this.enter(pos);
        const pipe = this.pipeline('parenthesized pipeline', 'rightParen');
        this.depth--;
        return { kind: 'pipe', pipe, pos, end: this.items[this.i - 1].pos + 1 };
      }
      case 'string':
        try {
          return { kind: 'string', value: unquote(it.val), pos, end };
        } catch {
          throw new ParseError(`invalid syntax in ${it.val}`, it.pos);
        }
      case 'rawString':
        return { kind: 'string', value: it.val.slice(1, -1).replace(/\r/g, ''), pos, end };
    }
    this.backup();
    return undefined;
  }
}

/** Parses template text; errors read as Go's: `template: NAME:LINE: message`. */
export function parseTemplate(name: string, text: string, hasFunction: (name: string) => boolean): Node[] {
  try {
    return new Parser(lex(text), hasFunction).parse();
  } catch (err) {
    if (err instanceof ParseError) {
      const line = 1 + (text.slice(0, err.pos).match(/\n/g)?.length ?? 0);
      throw new TspodError(`template: ${name}:${line}: ${err.message}`);
    }
    throw err;
  }
}
