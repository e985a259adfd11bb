import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REFERENCE_DIR } from '../lib/bed';
import { jsonString, JSON_STYLES, toJson } from '../../core/format/json';

function reference(name: string): string {
  return fs.readFileSync(path.join(REFERENCE_DIR, name), 'utf8');
}

// podman's own JSON, parsed and written again, must come out byte for byte.
const roundTrips: [string, keyof typeof JSON_STYLES][] = [
  ['images.json', 'images'],
  ['ps-a.json', 'ps'],
  ['inspect-image.json', 'inspect'],
  ['inspect-container-running.json', 'inspect'],
  ['inspect-container-exited.json', 'inspect'],
];
for (const [file, style] of roundTrips) {
  test(`${file} is reproduced byte for byte in the ${style} style`, () => {
    const text = reference(file);
    assert.is(toJson(JSON.parse(text), JSON_STYLES[style]) + '\n', text);
  });
}

test('HTML characters: escaped in list JSON, kept in inspect and templates', () => {
  const v = ['echo err >&2 <x>'];
  assert.is(toJson(v, { indent: '', escapeHtml: true }), '["echo err \\u003e\\u00262 \\u003cx\\u003e"]');
  assert.is(toJson(v, JSON_STYLES.inspect), '[\n     "echo err >&2 <x>"\n]');
  assert.is(toJson(v), '["echo err >&2 <x>"]');
});

test('empty objects: {} in Go style, json-iterator\'s blank line in the ps style', () => {
  assert.is(toJson({ a: {} }, JSON_STYLES.inspect), '{\n     "a": {}\n}');
  assert.is(toJson({ a: {} }, JSON_STYLES.ps), '{\n  "a": {\n    \n  }\n}');
  assert.is(toJson({}, JSON_STYLES.template), '{}');
  assert.is(toJson({ a: [] }, JSON_STYLES.ps), '{\n  "a": []\n}');
});

test('string escapes follow encoding/json', () => {
  const cases: [string, string][] = [
    ['a"b\\c', '"a\\"b\\\\c"'],
    ['\n\r\t', '"\\n\\r\\t"'],
    ['\b\f\u0001\u001f', '"\\u0008\\u000c\\u0001\\u001f"'],
    ['\u007f', '"\u007f"'],
    ['\u2028\u2029', '"\\u2028\\u2029"'],
    ['é😀', '"é😀"'],
    ['\ud800x', '"\ufffdx"'],
    ['x\udc00', '"x\ufffd"'],
  ];
  for (const [input, want] of cases) assert.is(jsonString(input, false), want, JSON.stringify(input));
});

test('value mapping: Map keys sorted, object order kept, undefined dropped, Date as RFC3339Nano', () => {
  const m = new Map<string, unknown>([
    ['b', 1],
    ['a', 2],
  ]);
  assert.is(toJson(m), '{"a":2,"b":1}');
  assert.is(toJson({ z: 1, a: 2, u: undefined, f: () => 1 }), '{"z":1,"a":2}');
  assert.is(toJson([undefined, null]), '[null,null]');
  assert.is(toJson(new Date(Date.UTC(2026, 10, 22, 7, 34, 42, 120))), '"2026-11-22T07:34:42.12Z"');
  assert.is(toJson([1.5, -0, 1e21, 1e-7, 12345678901234567890n, true]), '[1.5,-0,1e+21,1e-7,12345678901234567890,true]');
});

test('unsupported values are errors, not wrong output', () => {
  assert.throws(() => toJson(NaN), /json: unsupported value: NaN/);
  assert.throws(() => toJson([Infinity]), /\+Inf/);
  const a: unknown[] = [];
  a.push(a);
  assert.throws(() => toJson(a), /cycle/);
});

test('the same object twice (not a cycle) is fine', () => {
  const shared = { x: 1 };
  assert.is(toJson([shared, shared]), '[{"x":1},{"x":1}]');
});

test.run();
