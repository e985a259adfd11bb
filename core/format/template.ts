// Executes parsed --format templates against JavaScript values with Go's text/template semantics:
// field chains on objects and Maps (a missing map key prints `<no value>`, a missing struct field
// is an error), functions found as fields are called like Go methods, pipelines pass the value as
// the last argument, variables are scoped to their control structure, range walks arrays, maps
// (sorted keys) and integers, and values print with fmt's %v rules.
//
// A template also renders a table's header row: executed in header mode, every field yields its
// column title instead of a value (podman executes the template against a field -> title map).

import { TspodError } from '../errors';
import { goTypeName, isMapLike, sortedEntries, sprintValue, structType } from './gofmt';
import { parseTemplate, type Arg, type ControlNode, type Node, type Pipe, type Pos } from './template-parse';
import { BUILTIN_FUNCS, FuncError, truth, type TemplateFunc } from './template-funcs';

export type { TemplateFunc } from './template-funcs';

export interface TemplateOptions {
  /** Name used in error messages: `template: NAME:1:2: …` (podman uses the command's name). */
  name?: string;
  /** Extra functions, added to (or replacing) the builtins. */
  funcs?: Record<string, TemplateFunc>;
}

export interface ExecOptions {
  /**
   * Go struct type name of an object, if it is one: its unknown fields are then errors rather
   * than `<no value>`. Defaults to the asStruct() mark.
   */
  typeOf?: (v: object) => string | undefined;
}

/** Gives the column title of a field path, e.g. ['ID'] -> 'CONTAINER ID'. */
export type HeaderLookup = (path: readonly string[]) => string;

const MISSING = Symbol('missing');
type Signal = 'break' | 'continue' | undefined;

/** A value seen while rendering a header row: the title of the field it came from. */
class HeaderValue {
  constructor(
    readonly path: readonly string[],
    readonly text: string,
  ) {}
}

class ExecError extends Error {
  constructor(
    message: string,
    readonly at: Pos,
  ) {
    super(message);
  }
}

function hasField(obj: object, name: string): boolean {
  if (Object.prototype.hasOwnProperty.call(obj, name)) return true;
  // Getters and methods of classes count; Object.prototype's members (toString …) do not.
  return name in obj && !(name in Object.prototype);
}

class Exec {
  out = '';
  private vars: { name: string; value: unknown }[];

  constructor(
    private readonly funcs: Record<string, TemplateFunc>,
    root: unknown,
    private readonly typeOf: (v: object) => string | undefined,
    private readonly header?: HeaderLookup,
  ) {
    this.vars = [{ name: '$', value: root }];
  }

  walk(dot: unknown, nodes: readonly Node[]): Signal {
    for (const node of nodes) {
      switch (node.kind) {
        case 'text':
          this.out += node.text;
          break;
        case 'action': {
          const v = this.evalPipeline(dot, node.pipe);
          if (node.pipe.decl.length === 0) this.print(v, node);
          break;
        }
        case 'if':
        case 'with': {
          const mark = this.vars.length;
          const v = this.evalPipeline(dot, node.pipe);
          let sig: Signal;
          if (truth(v)) sig = this.walk(node.kind === 'with' ? v : dot, node.list);
          else if (node.elseList) sig = this.walk(dot, node.elseList);
          this.vars.length = mark;
          if (sig) return sig;
          break;
        }
        case 'range':
          this.walkRange(dot, node);
          break;
        case 'break':
        case 'continue':
          return node.kind;
      }
    }
    return undefined;
  }

  private walkRange(dot: unknown, node: ControlNode): void {
    const mark = this.vars.length;
    const val = this.evalPipeline(dot, node.pipe);
    const inner = this.vars.length;
    const decl = node.pipe.decl;
    const one = (key: unknown, elem: unknown): Signal => {
      if (decl.length > 0) this.vars[inner - 1].value = elem;
      if (decl.length > 1) this.vars[inner - 2].value = key;
      const sig = this.walk(elem, node.list);
      this.vars.length = inner;
      return sig;
    };
    let items: [unknown, unknown][];
    if (val instanceof HeaderValue) items = [[val, val]];
    else if (Array.isArray(val)) items = val.map((e, i) => [i, e]);
    else if (val === null || val === undefined) items = [];
    else if (typeof val === 'number' && Number.isInteger(val)) items = Array.from({ length: Math.max(val, 0) }, (_, i) => [i, i]);
    else if (isMapLike(val) && !this.structName(val)) items = sortedEntries(val);
    else throw new ExecError(`range can't iterate over ${sprintValue(val)}`, node.pipe);
    for (const [k, e] of items) {
      if (one(k, e) === 'break') break;
    }
    if (items.length === 0 && node.elseList) this.walk(dot, node.elseList);
    this.vars.length = mark;
  }

  private print(v: unknown, at: Pos): void {
    if (v instanceof HeaderValue) this.out += v.text;
    else if (v === null || v === undefined) this.out += '<no value>';
    else if (typeof v === 'string') this.out += v;
    else if (typeof v === 'function') throw new ExecError(`can't print value of type ${goTypeName(v)}`, at);
    else this.out += sprintValue(v);
  }

  private structName(v: object): string | undefined {
    return structType(v) ?? this.typeOf(v);
  }

  private evalPipeline(dot: unknown, pipe: Pipe): unknown {
    let value: unknown = MISSING;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd.args, value);
    for (const name of pipe.decl) {
      if (pipe.isAssign) this.setVar(name, value);
      else this.vars.push({ name, value });
    }
    return value;
  }

  private evalCommand(dot: unknown, args: readonly Arg[], final: unknown): unknown {
    const first = args[0];
    switch (first.kind) {
      case 'field':
        return this.evalFieldChain(dot, dot, first, first.ident, args, final);
      case 'chain':
        if (first.node.kind === 'nil') throw new ExecError('indirection through explicit nil', first);
        return this.evalFieldChain(dot, this.evalArg(dot, first.node), first, first.ident, args, final);
      case 'identifier':
        return this.evalFunction(dot, first, args, final);
      case 'variable':
        return this.evalVariable(dot, first, args, final);
      case 'pipe':
        this.notAFunction(args, final);
        return this.evalPipeline(dot, first.pipe);
    }
    this.notAFunction(args, final);
    switch (first.kind) {
      case 'dot':
        return dot;
      case 'nil':
        throw new ExecError('nil is not a command', first);
      default:
        return first.value;
    }
  }

  private notAFunction(args: readonly Arg[], final: unknown): void {
    if (args.length > 1 || final !== MISSING) {
      throw new ExecError(`can't give argument to non-function ${this.src(args[0])}`, args[0]);
    }
  }

  private src(a: Arg): string {
    switch (a.kind) {
      case 'field':
        return '.' + a.ident.join('.');
      case 'variable':
        return a.ident.join('.');
      case 'identifier':
        return a.name;
      case 'dot':
        return '.';
      case 'string':
        return JSON.stringify(a.value);
      case 'number':
      case 'bool':
        return String(a.value);
      default:
        return a.kind;
    }
  }

  private evalVariable(dot: unknown, node: Extract<Arg, { kind: 'variable' }>, args: readonly Arg[] | null, final: unknown): unknown {
    const value = this.varValue(node.ident[0], node);
    if (node.ident.length === 1) {
      if (args) this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, node, node.ident.slice(1), args, final);
  }

  private varValue(name: string, at: Pos): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i].name === name) return this.vars[i].value;
    throw new ExecError(`undefined variable: ${name}`, at);
  }

  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i].name === name) {
        this.vars[i].value = value;
        return;
      }
    }
  }

  private evalFieldChain(
    dot: unknown,
    receiver: unknown,
    node: Arg,
    ident: readonly string[],
    args: readonly Arg[] | null,
    final: unknown,
  ): unknown {
    for (let i = 0; i < ident.length - 1; i++) receiver = this.evalField(dot, ident[i], node, null, MISSING, receiver);
    return this.evalField(dot, ident[ident.length - 1], node, args, final, receiver);
  }

  private evalField(
    dot: unknown,
    name: string,
    node: Arg,
    args: readonly Arg[] | null,
    final: unknown,
    receiver: unknown,
  ): unknown {
    if (receiver instanceof HeaderValue) {
      const path = [...receiver.path, name];
      return new HeaderValue(path, this.header!(path));
    }
    // Fields of nil (a missing key, a JSON null) are nil again, printed as <no value>.
    if (receiver === null || receiver === undefined) return undefined;
    const hasArgs = (args !== null && args.length > 1) || final !== MISSING;
    if (receiver instanceof Map) {
      if (hasArgs) throw new ExecError(`${name} is not a method but has arguments`, node);
      return receiver.get(name);
    }
    if (typeof receiver === 'object' && !Array.isArray(receiver) && !(receiver instanceof Date)) {
      const obj = receiver as Record<string, unknown>;
      const typeName = this.structName(obj);
      if (hasField(obj, name)) {
        const v = obj[name];
        if (typeof v === 'function') {
          const method: TemplateFunc = { fn: (...a: unknown[]) => (v as (...x: unknown[]) => unknown).apply(obj, a), arity: v.length };
          return this.evalCall(dot, method, name, args, final, node);
        }
        if (hasArgs) {
          throw new ExecError(
            typeName ? `${name} has arguments but cannot be invoked as function` : `${name} is not a method but has arguments`,
            node,
          );
        }
        return v;
      }
      if (typeName) throw new ExecError(`can't evaluate field ${name} in type ${typeName}`, node);
      if (hasArgs) throw new ExecError(`${name} is not a method but has arguments`, node);
      return undefined;
    }
    throw new ExecError(`can't evaluate field ${name} in type ${goTypeName(receiver)}`, node);
  }

  private evalFunction(dot: unknown, node: Extract<Arg, { kind: 'identifier' }>, args: readonly Arg[], final: unknown): unknown {
    const fn = this.funcs[node.name];
    if (node.name === 'and' || node.name === 'or') {
      // Go's and/or stop evaluating at the first argument that decides the result.
      const operands = args.slice(1);
      const count = operands.length + (final !== MISSING ? 1 : 0);
      if (count < 1) throw new ExecError(`wrong number of args for ${node.name}: want at least 1 got 0`, node);
      let v: unknown;
      for (const a of operands) {
        v = this.evalArg(dot, a);
        if (truth(v) === (node.name === 'or')) return v;
      }
      return final !== MISSING ? final : v;
    }
    return this.evalCall(dot, fn, node.name, args, final, node);
  }

  private evalCall(dot: unknown, fn: TemplateFunc, name: string, args: readonly Arg[] | null, final: unknown, at: Pos): unknown {
    const operands = args ? args.slice(1) : [];
    const count = operands.length + (final !== MISSING ? 1 : 0);
    if (fn.variadic ? count < fn.arity : count !== fn.arity) {
      throw new ExecError(`wrong number of args for ${name}: want ${fn.variadic ? 'at least ' : ''}${fn.arity} got ${count}`, at);
    }
    const values = operands.map((a) => this.evalArg(dot, a));
    if (final !== MISSING) values.push(final);
    const heading = values.find((v): v is HeaderValue => v instanceof HeaderValue);
    if (heading) {
      // A header row: string functions shape the title; others (join, json, len …) pass it on.
      if (!fn.textual) return heading;
      values.forEach((v, i) => {
        if (v instanceof HeaderValue) values[i] = v.text;
      });
    }
    try {
      return fn.fn(...values);
    } catch (err) {
      if (err instanceof FuncError && err.typeError) throw new ExecError(err.message, at);
      const msg = err instanceof Error ? err.message : String(err);
      throw new ExecError(`error calling ${name}: ${msg}`, at);
    }
  }

  private evalArg(dot: unknown, a: Arg): unknown {
    switch (a.kind) {
      case 'dot':
        return dot;
      case 'nil':
        return null;
      case 'field':
        return this.evalFieldChain(dot, dot, a, a.ident, [a], MISSING);
      case 'variable':
        return this.evalVariable(dot, a, null, MISSING);
      case 'pipe':
        return this.evalPipeline(dot, a.pipe);
      case 'identifier':
        return this.evalFunction(dot, a, [a], MISSING);
      case 'chain':
        return this.evalCommand(dot, [a], MISSING);
      default:
        return a.value;
    }
  }
}

/** A compiled template: parse once, execute for each row. */
export class Template {
  private constructor(
    readonly name: string,
    private readonly text: string,
    private readonly nodes: Node[],
    private readonly funcs: Record<string, TemplateFunc>,
  ) {}

  /** Parses `text`; a syntax error or an unknown function is a TspodError naming it. */
  static compile(text: string, opts: TemplateOptions = {}): Template {
    const name = opts.name ?? 'format';
    const funcs = { ...BUILTIN_FUNCS, ...opts.funcs };
    const nodes = parseTemplate(name, text, (fn) => Object.prototype.hasOwnProperty.call(funcs, fn));
    return new Template(name, text, nodes, funcs);
  }

  /** Renders the template with `data` as dot (and `$`). */
  execute(data: unknown, opts: ExecOptions = {}): string {
    return this.run(new Exec(this.funcs, data, opts.typeOf ?? (() => undefined)), data);
  }

  /** Renders the header row: each field prints the title `header` gives for its path. */
  executeHeader(header: HeaderLookup): string {
    const root = new HeaderValue([], '');
    return this.run(new Exec(this.funcs, root, () => undefined, header), root);
  }

  private run(exec: Exec, dot: unknown): string {
    try {
      exec.walk(dot, this.nodes);
      return exec.out;
    } catch (err) {
      if (!(err instanceof ExecError)) throw err;
      const before = this.text.slice(0, err.at.pos);
      const line = 1 + (before.match(/\n/g)?.length ?? 0);
      const col = err.at.pos - (before.lastIndexOf('\n') + 1);
      const context = this.text.slice(err.at.pos, err.at.end);
      throw new TspodError(`template: ${this.name}:${line}:${col}: executing "${this.name}" at <${context}>: ${err.message}`);
    }
  }
}

/** Shorthand for Template.compile. */
export function compileTemplate(text: string, opts: TemplateOptions = {}): Template {
  return Template.compile(text, opts);
}
