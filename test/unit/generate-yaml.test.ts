// The YAML emitter of generate kube: what it writes must read back, with an independent YAML
// reader (the `yaml` package, in YAML 1.1 and 1.2 modes), as exactly the value it was given.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, parseAllDocuments } from 'yaml';
import { toYaml, scalar } from '../../core/generate/yaml';

// Strings that a careless emitter writes plain and a reader takes for something else, or that
// break the document's structure.
const hostile = [
  '80', '0080', '-1', '+1', '1.5', '.5', '1e3', '1_000', '0x1F', '0o17', '0b101', '012', '12:30', '1:20:30.5',
  '.inf', '-.inf', '.nan', 'true', 'false', 'True', 'FALSE', 'yes', 'no', 'Yes', 'NO', 'on', 'off', 'y', 'n', 'Y',
  'null', 'Null', '~', '', ' ', ' lead', 'trail ', 'a: b', 'a:', 'key: value: x', 'a #b', '#comment', '- x', '-',
  '? q', ': c', '[a]', '{a: 1}', '*alias', '&anchor', '!tag', '|', '>', '%dir', '@at', '`tick', '"dq"', "'sq'",
  'multi\nline', 'tab\there', 'cr\rhere', 'nul\u0000here', 'bell\u0007', 'del\u007f', 'nel\u0085', 'ls\u2028',
  'back\\slash', '2026-11-22', '2026-11-22T08:31:00Z', 'ünïcødé', '日本語', 'emoji 🐳', '---', '...', '=', '<<',
];

test('every hostile string reads back as itself, in YAML 1.2 and 1.1', () => {
  for (const s of hostile) {
    const doc = toYaml({ value: s, list: [s], nested: { [s === '' ? 'empty' : s]: s } });
    for (const version of ['1.2', '1.1'] as const) {
      const back = parse(doc, { version }) as { value: unknown; list: unknown[]; nested: Record<string, unknown> };
      assert.is(back.value, s, `value ${JSON.stringify(s)} (YAML ${version}):\n${doc}`);
      assert.equal(back.list, [s], `list item ${JSON.stringify(s)} (YAML ${version})`);
      assert.equal(back.nested, { [s === '' ? 'empty' : s]: s }, `key ${JSON.stringify(s)} (YAML ${version})`);
    }
  }
});

test('plain strings stay plain, as podman writes them', () => {
  for (const s of ['httpd', '-f', '-p', 'bar', 'localhost:5000/busybox:latest', '127.0.0.1', '/tmp', 'CAP_MKNOD', 'io.podman.annotations.init/web', 'a-b', '1.2.3']) {
    assert.is(scalar(s), s, s);
  }
  assert.is(scalar('80'), '"80"');
  assert.is(scalar('false'), '"false"');
  assert.is(scalar('2026-11-22T08:31:00Z'), '"2026-11-22T08:31:00Z"');
});

test('numbers and booleans are written as such; non-finite numbers are refused', () => {
  const back = parse(toYaml({ a: 80, b: -1.5, c: true, d: false, e: 0 }));
  assert.equal(back, { a: 80, b: -1.5, c: true, d: false, e: 0 });
  assert.throws(() => toYaml({ x: Number.NaN }), /cannot write/);
  assert.throws(() => toYaml({ x: Infinity }), /cannot write/);
});

test("layout: keys sorted, sequences at their key's indentation, maps in sequences on the dash line", () => {
  const doc = toYaml({
    spec: { containers: [{ name: 'web', command: ['httpd', '-f'], ports: [{ containerPort: 80 }] }], b: true },
    apiVersion: 'v1',
  });
  assert.is(
    doc,
    [
      'apiVersion: v1',
      'spec:',
      '  b: true',
      '  containers:',
      '  - command:',
      '    - httpd',
      '    - -f',
      '    name: web',
      '    ports:',
      '    - containerPort: 80',
      '',
    ].join('\n'),
  );
});

test('empty collections, undefined keys, sequences of sequences', () => {
  const doc = toYaml({ a: [], b: {}, c: undefined, d: [[1, 2], [], [{ x: 'y' }]], e: [{}] });
  assert.not.match(doc, /^c:/m, 'undefined keys are left out');
  const back = parse(doc);
  assert.equal(back, { a: [], b: {}, d: [[1, 2], [], [{ x: 'y' }]], e: [{}] });
});

test('a deep random structure of hostile strings round-trips', () => {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pick = () => hostile[Math.floor(rnd() * hostile.length)];
  function make(depth: number): unknown {
    const r = rnd();
    if (depth > 3 || r < 0.3) return r < 0.1 ? Math.floor(rnd() * 1000) : pick();
    if (r < 0.65) return Array.from({ length: Math.floor(rnd() * 4) }, () => make(depth + 1));
    const m: Record<string, unknown> = {};
    for (let i = 0; i < Math.floor(rnd() * 4); i++) m[pick() || 'k'] = make(depth + 1);
    return m;
  }
  for (let i = 0; i < 200; i++) {
    const value = { root: make(0) } as Parameters<typeof toYaml>[0];
    const doc = toYaml(value);
    const docs = parseAllDocuments(doc);
    assert.is(docs.length, 1, doc);
    assert.equal(docs[0].toJS(), value, doc);
  }
});

test.run();
