import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseToml } from '../../core/registry/toml';
import { loadRegistriesConf, parseRegistriesConf, prefixMatches, registriesConfPath } from '../../core/registry/registries-conf';

// ---- the TOML subset ----

test('toml: a podman registries.conf', () => {
  const doc = parseToml(`
# comment
unqualified-search-registries = ["registry.fedoraproject.org", "docker.io"]   # trailing comment
short-name-mode = "enforcing"

[[registry]]
prefix = "example.com/foo"
location = "internal.example.com:5000/foo"
insecure = true

[[registry.mirror]]
location = "mirror-1.example.com"

[[registry.mirror]]
location = 'mirror-2.example.com'

[[registry]]
location = "localhost:5000"
blocked = false

[aliases]
"fedora" = "registry.fedoraproject.org/fedora"
`);
  assert.equal(doc, {
    'unqualified-search-registries': ['registry.fedoraproject.org', 'docker.io'],
    'short-name-mode': 'enforcing',
    registry: [
      { prefix: 'example.com/foo', location: 'internal.example.com:5000/foo', insecure: true, mirror: [{ location: 'mirror-1.example.com' }, { location: 'mirror-2.example.com' }] },
      { location: 'localhost:5000', blocked: false },
    ],
    aliases: { fedora: 'registry.fedoraproject.org/fedora' },
  });
});

test('toml: values', () => {
  const doc = parseToml([
    'a = "esc \\t \\" \\\\ \\u00e9 \\U0001F600"',
    "b = 'C:\\path'",
    'c = -42',
    'd = 1_000',
    'e = 0x1F',
    'f = 3.5e2',
    'g = [ 1, [2, 3], "x", ]',
    'h = [',
    '  "multi",  # comment inside',
    '  "line",',
    ']',
    'i = { x = 1, y.z = "w" }',
    'j.k.l = true',
    'm = """',
    'first\\',
    '   second"""',
    "n = '''raw\\n'''",
    'o = """ends in quotes"""""',
    '"quoted key" = 1',
  ].join('\n'));
  assert.equal(doc, {
    a: 'esc \t " \\ é 😀',
    b: 'C:\\path',
    c: -42,
    d: 1000,
    e: 31,
    f: 350,
    g: [1, [2, 3], 'x'],
    h: ['multi', 'line'],
    i: { x: 1, y: { z: 'w' } },
    j: { k: { l: true } },
    m: 'firstsecond',
    n: 'raw\\n',
    o: 'ends in quotes""',
    'quoted key': 1,
  });
});

test('toml: CRLF line ends', () => {
  assert.equal(parseToml('a = 1\r\n[t]\r\nb = "x"\r\n'), { a: 1, t: { b: 'x' } });
});

test('toml: malformed input is refused with the line', () => {
  const table: [string, RegExp][] = [
    ['a = ', /line 1: missing value/],
    ['a = "unterminated', /line 1: unterminated string/],
    ['\n\na = bare', /line 3: invalid value "bare" \(strings need quotes\)/],
    ['a = 1\na = 2', /line 2: key "a" is defined twice/],
    ['[t]\n[t]', /line 2: table "t" is defined twice/],
    ['a = 1 b = 2', /line 1: unexpected "b" after a value/],
    ['[t', /unterminated table header/],
    ['[[t]', /unterminated table header, expected "\]\]"/],
    ['a = [1, 2', /unterminated array/],
    ['a = [1 2]', /expected "," or "\]"/],
    ['a = "\\q"', /invalid escape/],
    ['a = "\\uD800"', /invalid unicode escape/],
    ['a = 1979-05-27', /dates and times are not supported/],
    ['= 1', /line 1: unexpected "=" where a key was expected/],
    ['a = 1\n[a]', /table "a" is defined twice|is not a table/],
    ['a = [1]\n[[a]]', /not an array of tables/],
    ['a = { b = 1 }\n[a]', /defined twice/],
    ['a = "x\u0001"', /control character/],
    ['a = """never closed', /unterminated multi-line string/],
    ['a = {b = 1', /expected "," or "}"/],
  ];
  for (const [text, re] of table) assert.throws(() => parseToml(text), re, JSON.stringify(text));
});

test('toml: deep nesting and long input do not blow up', () => {
  assert.equal(parseToml('a = ' + '['.repeat(200) + ']'.repeat(200)).a, (function nest(n: number): unknown { return n === 0 ? [] : [nest(n - 1)]; })(199));
  const many = Array.from({ length: 5000 }, (_, i) => `k${i} = ${i}`).join('\n');
  assert.is(Object.keys(parseToml(many)).length, 5000);
});

// ---- registries.conf semantics ----

test('v2: insecure and blocked by longest matching prefix', () => {
  const c = parseRegistriesConf(`
unqualified-search-registries = ["docker.io", "quay.io"]
[[registry]]
location = "localhost:5000"
insecure = true
[[registry]]
prefix = "localhost:5000/secure"
location = "localhost:5000/secure"
[[registry]]
location = "evil.example.com"
blocked = true
[[registry]]
prefix = "*.internal.example"
insecure = true
`);
  assert.equal(c.unqualifiedSearchRegistries, ['docker.io', 'quay.io']);
  assert.ok(c.isInsecure('localhost:5000'));
  assert.ok(c.isInsecure('localhost:5000/app:1.2'));
  assert.not.ok(c.isInsecure('localhost:5000/secure/app'));
  assert.not.ok(c.isInsecure('localhost:50001'));
  assert.not.ok(c.isInsecure('localhost'));
  assert.ok(c.isBlocked('evil.example.com/x'));
  assert.not.ok(c.isBlocked('notevil.example.com/x'));
  assert.ok(c.isInsecure('a.internal.example:443/x'));
  assert.ok(c.isInsecure('b.a.internal.example'));
  assert.not.ok(c.isInsecure('internal.example'));
  assert.not.ok(c.isInsecure('docker.io/library/busybox'));
});

test('prefix matching follows containers/image (a bare host also matches its ports)', () => {
  assert.ok(prefixMatches('localhost:5000', 'localhost'));
  assert.ok(prefixMatches('example.com/a/b', 'example.com/a'));
  assert.ok(prefixMatches('example.com/a@sha256:00', 'example.com/a'));
  assert.not.ok(prefixMatches('example.com/ab', 'example.com/a'));
  assert.not.ok(prefixMatches('example.co', 'example.com'));
});

test('v1 format', () => {
  const c = parseRegistriesConf(`
[registries.search]
registries = ["docker.io"]
[registries.insecure]
registries = ["localhost:5000"]
[registries.block]
registries = ["bad.example.com"]
`);
  assert.equal(c.unqualifiedSearchRegistries, ['docker.io']);
  assert.ok(c.isInsecure('localhost:5000/x'));
  assert.ok(c.isBlocked('bad.example.com'));
});

test('invalid registries.conf content is refused with the file named', () => {
  const table: [string, RegExp][] = [
    ['[registries.search]\nregistries=["a"]\n[[registry]]\nlocation="b"', /mixing sysregistry v1\/v2/],
    ['[[registry]]\nlocation = "https://x.example"', /URI schemes are not supported/],
    ['[[registry]]\ninsecure = "yes"\nlocation = "x"', /"insecure" must be true or false/],
    ['[[registry]]\ninsecure = true', /needs a location or a prefix/],
    ['unqualified-search-registries = "docker.io"', /must be an array of strings/],
    ['registry = 1', /array of tables/],
    ['[[registry]]\nprefix = "*example.com"', /wildcard prefix/],
    ['[[registry]\n', /line 1: unterminated table header/],
  ];
  for (const [text, re] of table) {
    assert.throws(() => parseRegistriesConf(text, '/etc/x.conf'), (e: Error) => re.test(e.message) && e.message.startsWith('loading registries configuration "/etc/x.conf": '), text);
  }
});

test('which file: $CONTAINERS_REGISTRIES_CONF, then the user file, then /etc', () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-conf-'));
  try {
    const env = { HOME: home };
    assert.is(registriesConfPath(env), '/etc/containers/registries.conf');
    const user = path.join(home, '.config', 'containers', 'registries.conf');
    fs.mkdirSync(path.dirname(user), { recursive: true });
    fs.writeFileSync(user, '[[registry]]\nlocation = "localhost:5000"\ninsecure = true\n');
    assert.is(registriesConfPath(env), user);
    assert.ok(loadRegistriesConf(env).isInsecure('localhost:5000'));
    assert.is(loadRegistriesConf(env).source, user);
    const xdg = path.join(home, 'xdg');
    assert.is(registriesConfPath({ HOME: home, XDG_CONFIG_HOME: xdg }), '/etc/containers/registries.conf');
    assert.is(registriesConfPath({ ...env, CONTAINERS_REGISTRIES_CONF: '/nonexistent.conf' }), '/nonexistent.conf');
    const none = loadRegistriesConf({ ...env, CONTAINERS_REGISTRIES_CONF: '/nonexistent.conf' });
    assert.is(none.source, undefined);
    assert.not.ok(none.isInsecure('localhost:5000'));
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test.run();
