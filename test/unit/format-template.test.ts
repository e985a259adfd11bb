import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { asStruct } from '../../core/format/gofmt';
import { compileTemplate, Template } from '../../core/format/template';
import { headerFor } from '../../core/format';
import { TspodError } from '../../core/errors';

const run = (text: string, data: unknown = {}): string => compileTemplate(text, { name: 't' }).execute(data);

class Container {
  constructor(readonly Labels: Record<string, string>) {}
  get Short(): string {
    return 'short';
  }
  Label(name: string): string {
    return this.Labels[name] ?? '';
  }
}

const data = {
  Name: 'web',
  Names: ['web', 'www'],
  Labels: { 'a.b': 'dotted', foo: 'bar' },
  Mixed: { n: 1, s: 'x' },
  NoLabels: null,
  State: { Status: 'running', ExitCode: 0, Running: true },
  Mounts: [{ Source: '/a' }, { Source: '/b' }],
  Z: [{ N: 1 }, { N: 2 }],
  Empty: [],
  Count: 3,
  Ratio: 0.25,
  S: 'abc',
  Created: new Date(Date.UTC(2026, 10, 22, 7, 34, 42, 123)),
  M: new Map<string, number>([
    ['z', 1],
    ['a', 2],
  ]),
  Obj: { b: 2, a: 1 },
  Tricky: { html: '<a&b>' },
};

// [template, expected output] against `data`
const execCases: [string, string][] = [
  ['plain text', 'plain text'],
  ['{{.Name}}', 'web'],
  ['{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}', 'running 0 true'],
  ['{{.Names}}', '[web www]'],
  ['{{.Labels}}', 'map[a.b:dotted foo:bar]'],
  ['{{.Labels.foo}}', 'bar'],
  ['{{.Labels.missing}}', '<no value>'],
  ['{{.Missing}}', '<no value>'],
  ['{{.Missing.Deeper.Still}}', '<no value>'],
  ['{{.NoLabels}}', '<no value>'],
  ['{{.NoLabels.foo}}', '<no value>'],
  ['{{index .Labels "a.b"}}', 'dotted'],
  ['[{{index .Labels "nope"}}]', '[]'],
  ['{{index .Mixed "nope"}}', '<no value>'],
  ['[{{index .NoLabels "x"}}]', '[]'],
  ['{{index .Names 1}}', 'www'],
  ['{{index .Z 1 | printf "%v"}}', 'map[N:2]'],
  ['{{(index .Z 1).N}}', '2'],
  ['{{index .M "a"}}', '2'],
  ['{{.M}}', 'map[a:2 z:1]'],
  ['{{.Obj}}', 'map[a:1 b:2]'],
  ['{{.Ratio}} {{.Count}}', '0.25 3'],
  ['{{.Created}}', '2026-11-22 07:34:42.123 +0000 UTC'],
  ['{{.}}', 'map[Count:3 Created:2026-11-22 07:34:42.123 +0000 UTC Empty:[] Labels:map[a.b:dotted foo:bar] M:map[a:2 z:1] Mixed:map[n:1 s:x] Mounts:[map[Source:/a] map[Source:/b]] Name:web Names:[web www] NoLabels:<nil> Obj:map[a:1 b:2] Ratio:0.25 S:abc State:map[ExitCode:0 Running:true Status:running] Tricky:map[html:<a&b>] Z:[map[N:1] map[N:2]]]'],
  // range
  ['{{range .Names}}{{.}},{{end}}', 'web,www,'],
  ['{{range $i, $e := .Names}}{{$i}}={{$e}} {{end}}', '0=web 1=www '],
  ['{{range $e := .Names}}<{{$e}}>{{end}}', '<web><www>'],
  ['{{range .Empty}}x{{else}}none{{end}}', 'none'],
  ['{{range .NoLabels}}x{{else}}nil{{end}}', 'nil'],
  ['{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}', 'a.b=dotted;foo=bar;'],
  ['{{range $k, $v := .M}}{{$k}}={{$v}};{{end}}', 'a=2;z=1;'],
  ['{{range .Count}}{{.}}{{end}}', '012'],
  ['{{range .Mounts}}{{.Source}} {{end}}', '/a /b '],
  ['{{range .Names}}{{$.Name}}:{{.}} {{end}}', 'web:web web:www '],
  ['{{range .Z}}{{if eq .N 1}}{{continue}}{{end}}{{.N}}{{end}}', '2'],
  ['{{range .Names}}{{.}}{{break}}{{end}}', 'web'],
  ['{{range $i, $_ := .Names}}{{if eq $i 1}}{{break}}{{end}}{{$i}}{{end}}', '0'],
  // if / with
  ['{{if .State.Running}}up{{else}}down{{end}}', 'up'],
  ['{{if eq .S "x"}}X{{else if eq .S "abc"}}ABC{{else}}other{{end}}', 'ABC'],
  ['{{if eq .S "x"}}X{{else if eq .S "y"}}Y{{else}}other{{end}}', 'other'],
  ['{{if .Empty}}yes{{else}}no{{end}} {{if .Obj}}yes{{end}} {{if 0}}yes{{else}}no{{end}} {{if ""}}yes{{else}}no{{end}}', 'no yes no no'],
  ['{{with .State}}{{.Status}}{{end}}', 'running'],
  ['{{with .Missing}}x{{else}}none{{end}}', 'none'],
  ['{{with .Missing}}x{{else with .Name}}{{.}}!{{end}}', 'web!'],
  // pipelines, parentheses, literals
  ['{{.Names | json}}', '["web","www"]'],
  ['{{json .Tricky}}', '{"html":"<a&b>"}'],
  ['{{json .M}}', '{"a":2,"z":1}'],
  ['{{json .Missing}}', 'null'],
  ['{{"abc" | printf "%s-%s" "x"}}', 'x-abc'],
  ['{{.Name | upper | printf "[%s]"}}', '[WEB]'],
  ['{{printf "%d" (len .Names)}}', '2'],
  ['{{len (split "a,b,c" ",")}}', '3'],
  ['{{"a\\tb\\u00e9\\x41"}}', 'a\tbéA'],
  ['{{`a\\tb`}}', 'a\\tb'],
  ["{{'a'}} {{'\\n'}}", '97 10'],
  ['{{0x1F}} {{1_000}} {{0o17}} {{017}} {{0b101}} {{-3}} {{+4}} {{1.5}} {{.5}}', '31 1000 15 15 5 -3 4 1.5 0.5'],
  ['{{9007199254740993}}', '9007199254740993'],
  ['{{true}} {{false}}', 'true false'],
  ['{{.}}', 'map[Count:3 Created:2026-11-22 07:34:42.123 +0000 UTC Empty:[] Labels:map[a.b:dotted foo:bar] M:map[a:2 z:1] Mixed:map[n:1 s:x] Mounts:[map[Source:/a] map[Source:/b]] Name:web Names:[web www] NoLabels:<nil> Obj:map[a:1 b:2] Ratio:0.25 S:abc State:map[ExitCode:0 Running:true Status:running] Tricky:map[html:<a&b>] Z:[map[N:1] map[N:2]]]'],
  // comments and trim markers
  ['a{{/* comment */}}b', 'ab'],
  ['a {{- /* comment */ -}} b', 'ab'],
  ['a  {{- .Name -}}  b', 'awebb'],
  ['a\n{{- .Name}}\n', 'aweb\n'],
  ['{{.Name -}}\n\t x', 'webx'],
  ['{{- 3}}', '3'],
  ['{{ .Name }}', 'web'],
  ['{{\n.Name\n}}', 'web'],
  // variables
  ['{{$x := .Name}}{{$x}}', 'web'],
  ['{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}', '2'],
  ['{{$x := 1}}{{with .State}}{{$x := 5}}{{$x}}{{end}}{{$x}}', '51'],
  ['{{$n := len .Names}}{{if gt $n 1}}many{{end}}', 'many'],
  // functions
  ['{{lower "ABC"}} {{upper "abc"}} {{title "hello wORLD-x"}}', 'abc ABC Hello WORLD-X'],
  ['{{upper "straße"}}', 'STRAßE'],
  ['{{split "a,b" ","}} {{split "ab" ""}} {{len (split "" ",")}}', '[a b] [a b] 1'],
  ['{{join .Names ", "}} [{{join .NoLabels ","}}]', 'web, www []'],
  ['{{truncate "abcdef" 3}} {{truncate "ab" 3}} {{truncate "日本語" 2}}', 'abc ab 日本'],
  ['[{{pad "x" 1 2}}] [{{pad "" 1 1}}]', '[ x  ] []'],
  ['{{len "héllo"}} {{len .Names}} {{len .Labels}} {{len .M}} {{len .NoLabels}}', '6 2 2 2 0'],
  ['{{print "a" 1 2 "b"}}|{{println "a" 1}}|', 'a1 2b|a 1\n|'],
  ['{{printf "%-6s|%3d|%q|%v|%.1f" .Name .Count .S .Names .Ratio}}', 'web   |  3|"abc"|[web www]|0.2'],
  ['{{eq .S "abc"}} {{eq .S "x" "y" "abc"}} {{ne .Count 3}} {{eq .Count 3}}', 'true true false true'],
  ['{{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1.5 2}}', 'true true true false'],
  ['{{eq .Missing nil}} {{eq .Missing "x"}}', 'true false'],
  ['{{and 1 0 .Missing}} {{and 1 "x"}} {{or 0 "" "y"}} {{or 0 ""}} {{not .Empty}} {{not .Names}}', '0 x y  true false'],
  // and/or stop at the deciding argument: the failing index is never evaluated
  ['{{and false (index .Names 9)}} {{or "x" (index .Names 9)}}', 'false x'],
  ['{{.Name | and true}}', 'web'],
  // fields that are functions are called like Go methods
  ['{{.Label "app"}} {{.Short}} {{.Labels.app}}', 'tspod short tspod'],
];

for (const [text, want] of execCases) {
  test(`exec ${JSON.stringify(text)}`, () => {
    const d = text.includes('.Label "') ? new Container({ app: 'tspod' }) : data;
    assert.is(run(text, d), want);
  });
}

test('hostile field names never reach Object.prototype', () => {
  assert.is(run('{{.constructor}} {{.__proto__}} {{.toString}} {{.hasOwnProperty}}', {}), '<no value> <no value> <no value> <no value>');
  assert.is(run('[{{index . "__proto__"}}] [{{index . "constructor"}}]', { a: 'x' }), '[] []');
  assert.is(run('{{.constructor}}', { constructor: 'own' }), 'own');
});

// [template, data, expected message]
const execErrors: [string, unknown, string][] = [
  ['{{.Foo}}', asStruct({ ID: 'x' }, 'images.imageReporter'), 'template: t:1:2: executing "t" at <.Foo>: can\'t evaluate field Foo in type images.imageReporter'],
  ['abc\n  {{.Foo}}', asStruct({}, 'T'), 'template: t:2:4: executing "t" at <.Foo>: can\'t evaluate field Foo in type T'],
  ['{{.S.Len}}', { S: 'abc' }, 'template: t:1:2: executing "t" at <.S.Len>: can\'t evaluate field Len in type string'],
  ['{{.A.B}}', { A: [1] }, 'template: t:1:2: executing "t" at <.A.B>: can\'t evaluate field B in type []interface {}'],
  ['{{.Name "x"}}', { Name: 'n' }, 'template: t:1:2: executing "t" at <.Name>: Name is not a method but has arguments'],
  ['{{.Name "x"}}', asStruct({ Name: 'n' }, 'T'), 'template: t:1:2: executing "t" at <.Name>: Name has arguments but cannot be invoked as function'],
  ['{{nil}}', {}, 'template: t:1:2: executing "t" at <nil>: nil is not a command'],
  ['{{range .S}}{{end}}', { S: 'abc' }, 'template: t:1:8: executing "t" at <.S>: range can\'t iterate over abc'],
  ['{{len}}', {}, 'template: t:1:2: executing "t" at <len>: wrong number of args for len: want 1 got 0'],
  ['{{join .N}}', { N: ['a'] }, 'template: t:1:2: executing "t" at <join>: wrong number of args for join: want 2 got 1'],
  ['{{and}}', {}, 'template: t:1:2: executing "t" at <and>: wrong number of args for and: want at least 1 got 0'],
  ['{{index .N 5}}', { N: ['a'] }, 'template: t:1:2: executing "t" at <index>: error calling index: index out of range: 5'],
  ['{{index .N "x"}}', { N: ['a'] }, 'template: t:1:2: executing "t" at <index>: error calling index: cannot index slice/array with type string'],
  ['{{index 3 1}}', {}, 'template: t:1:2: executing "t" at <index>: error calling index: can\'t index item of type int'],
  ['{{.N | join ","}}', { N: ['a'] }, 'template: t:1:7: executing "t" at <join>: wrong type for value; expected []string; got string'],
  ['{{upper 3}}', {}, 'template: t:1:2: executing "t" at <upper>: wrong type for value; expected string; got int'],
  ['{{truncate "abc" "x"}}', {}, 'template: t:1:2: executing "t" at <truncate>: wrong type for value; expected int; got string'],
  ['{{eq 1 "1"}}', {}, 'template: t:1:2: executing "t" at <eq>: error calling eq: incompatible types for comparison'],
  ['{{lt true false}}', {}, 'template: t:1:2: executing "t" at <lt>: error calling lt: invalid type for comparison'],
  ['{{eq .A .A}}', { A: [1] }, 'template: t:1:2: executing "t" at <eq>: error calling eq: non-comparable type []interface {}'],
  ['{{len 3}}', {}, 'template: t:1:2: executing "t" at <len>: error calling len: len of type int'],
  ['{{.Name | .Name}}', { Name: 'x' }, 'template: t:1:10: executing "t" at <.Name>: Name is not a method but has arguments'],
  ['{{"x" 1}}', {}, 'template: t:1:2: executing "t" at <"x">: can\'t give argument to non-function "x"'],
  ['{{.F}}', { F: () => { throw new Error('boom'); } }, 'template: t:1:2: executing "t" at <.F>: error calling F: boom'],
];

for (const [text, d, want] of execErrors) {
  test(`exec error ${JSON.stringify(text)}`, () => {
    try {
      compileTemplate(text, { name: 't' }).execute(d);
      assert.unreachable('expected an error');
    } catch (err) {
      assert.instance(err, TspodError);
      assert.is((err as Error).message, want);
      assert.is((err as TspodError).exitCode, 125);
    }
  });
}

// [template, expected message]
const parseErrors: [string, string][] = [
  ['{{.X', 'template: t:1: unclosed action'],
  ['a\nb\n{{.X', 'template: t:3: unclosed action'],
  ['{{if .X}}a', 'template: t:1: unexpected EOF'],
  ['{{range .X}}a{{else}}b{{else}}c{{end}}', 'template: t:1: expected end; found {{else}}'],
  ['{{end}}', 'template: t:1: unexpected {{end}}'],
  ['{{else}}', 'template: t:1: unexpected {{else}}'],
  ['{{foo .X}}', 'template: t:1: function "foo" not defined'],
  ['{{.X | foo}}', 'template: t:1: function "foo" not defined'],
  ['{{$x}}', 'template: t:1: undefined variable "$x"'],
  ['{{$x = 1}}', 'template: t:1: undefined variable "$x"'],
  ['{{if true}}{{$y := 2}}{{end}}{{$y}}', 'template: t:1: undefined variable "$y"'],
  ['{{/* x }}', 'template: t:1: unclosed comment'],
  ['{{/* x */ }}', 'template: t:1: comment ends before closing delimiter'],
  ['{{"abc}}', 'template: t:1: unterminated quoted string'],
  ['{{`abc}}', 'template: t:1: unterminated raw quoted string'],
  ["{{'ab'}}", "template: t:1: malformed character constant: 'ab'"],
  ['{{"\\q"}}', 'template: t:1: invalid syntax in "\\q"'],
  ['{{break}}', 'template: t:1: {{break}} outside {{range}}'],
  ['{{}}', 'template: t:1: missing value for command'],
  ['{{if}}x{{end}}', 'template: t:1: missing value for if'],
  ['{{template "x"}}', 'template: t:1: {{template}} is not supported in --format templates'],
  ['{{define "x"}}{{end}}', 'template: t:1: {{define}} is not supported in --format templates'],
  ['{{.X | 3}}', 'template: t:1: non executable command in pipeline stage 2'],
  ['{{(.X}}', 'template: t:1: unclosed left paren'],
  ['{{.X)}}', 'template: t:1: unexpected right paren'],
  ['{{1.2.3}}', 'template: t:1: unexpected ".3" in operand'],
  ['{{3x}}', 'template: t:1: bad number syntax: "3x"'],
  ['{{.X @}}', 'template: t:1: unexpected "@" in operand'],
  ['{{.X ☃}}', 'template: t:1: unrecognized character in action: U+2603'],
  ['{{.X}', "template: t:1: bad character U+007D '}'"],
  ['{{.X }', 'template: t:1: unexpected "}" in operand'],
  ['{{range $i, $e, $f := .X}}{{end}}', 'template: t:1: too many declarations in range'],
  ['{{with $x, $y := .X}}{{end}}', 'template: t:1: too many declarations in with'],
  ['{{"a".X}}', 'template: t:1: unexpected . after term "\\"a\\""'],
  ['{{x: 1}}', 'template: t:1: function "x" not defined'],
];

for (const [text, want] of parseErrors) {
  test(`parse error ${JSON.stringify(text)}`, () => {
    try {
      compileTemplate(text, { name: 't' });
      assert.unreachable('expected an error');
    } catch (err) {
      assert.instance(err, TspodError);
      assert.is((err as Error).message, want);
    }
  });
}

test('hostile nesting is refused cleanly, moderate nesting works', () => {
  const deep = (n: number) => '{{' + '('.repeat(n) + '1' + ')'.repeat(n) + '}}';
  assert.is(run(deep(200)), '1');
  assert.throws(() => compileTemplate(deep(50000)), /max expression depth exceeded/);
  const ifs = (n: number) => '{{if true}}'.repeat(n) + 'x' + '{{end}}'.repeat(n);
  assert.is(run(ifs(200)), 'x');
  assert.throws(() => compileTemplate(ifs(5000)), /max expression depth exceeded/);
});

test('compiled once, executed many times with independent state', () => {
  const t = Template.compile('{{$x := .}}{{range .}}{{.}}{{end}}|{{len $x}}');
  assert.is(t.execute([1, 2]), '12|2');
  assert.is(t.execute(['a']), 'a|1');
});

test('custom functions are checked for arity and may be textual', () => {
  const t = compileTemplate('{{shout .Name}}', { funcs: { shout: { fn: (s) => String(s) + '!', arity: 1, textual: true } } });
  assert.is(t.execute({ Name: 'hi' }), 'hi!');
  assert.is(t.executeHeader((p) => headerFor(p)), 'NAME!');
});

test('header rows: each field prints its title, string functions shape it, others pass it on', () => {
  const title = (p: readonly string[]) => headerFor(p, { ID: 'container id' });
  const header = (text: string): string => compileTemplate(text).executeHeader(title);
  assert.is(header('{{.ID}}\t{{.Names}}'), 'CONTAINER ID\tNAMES');
  assert.is(header('{{.State.Status}}|{{.Config.Labels}}'), 'STATUS|LABELS');
  assert.is(header('{{join .Names ","}}|{{json .Config}}|{{len .Mounts}}|{{index .Labels "a"}}'), 'NAMES|CONFIG|MOUNTS|LABELS');
  assert.is(header('{{lower .ID}}|{{printf "%-14s|" .ID}}|{{truncate .ID 4}}'), 'container id|CONTAINER ID  ||CONT');
  assert.is(header('{{range .Mounts}}{{.Source}}{{end}}|{{with .State}}{{.Pid}}{{end}}|{{if .X}}{{.X}}{{end}}'), 'SOURCE|PID|X');
  assert.is(header('{{.CreatedHuman}} {{"literal"}}'), 'CREATED HUMAN literal');
  assert.is(header('{{.}}'), '');
});

test.run();
