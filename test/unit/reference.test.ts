import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatReference, familiarName, parseReference, hasDomain, looksLikeId } from '../../core/reference';
import { TspodError } from '../../core/errors';

const D = 'sha256:' + 'a'.repeat(64);

const valid: Array<[string, string]> = [
  ['busybox', 'docker.io/library/busybox:latest'],
  ['busybox:1.36', 'docker.io/library/busybox:1.36'],
  ['library/busybox', 'docker.io/library/busybox:latest'],
  ['user/app', 'docker.io/user/app:latest'],
  ['docker.io/busybox', 'docker.io/library/busybox:latest'],
  ['index.docker.io/busybox', 'docker.io/library/busybox:latest'],
  ['localhost/app', 'localhost/app:latest'],
  ['localhost:5000/app:1.2', 'localhost:5000/app:1.2'],
  ['127.0.0.1:5000/a/b/c:v', '127.0.0.1:5000/a/b/c:v'],
  ['quay.io/podman/hello', 'quay.io/podman/hello:latest'],
  [`app@${D}`, `docker.io/library/app@${D}`],
  [`app:tag@${D}`, `docker.io/library/app:tag@${D}`],
  [`localhost:5000/app@${D}`, `localhost:5000/app@${D}`],
  ['a_b.c-d__e', 'docker.io/library/a_b.c-d__e:latest'],
  ['a---b', 'docker.io/library/a---b:latest'],
  ['Example.com/app', 'Example.com/app:latest'],
  ['[::1]:5000/app', '[::1]:5000/app:latest'],
  ['app:Tag_1.0-x', 'docker.io/library/app:Tag_1.0-x'],
];

for (const [input, want] of valid) {
  test(`parses ${input}`, () => {
    assert.is(formatReference(parseReference(input)), want);
  });
}

const invalid: Array<[string, RegExp]> = [
  ['', /empty/],
  ['Busybox', /lowercase/],
  ['busybox:', /invalid tag/],
  ['busybox:-x', /invalid tag/],
  [`busybox:${'t'.repeat(129)}`, /invalid tag/],
  ['busybox@sha256:abc', /invalid digest/],
  ['busybox@sha256:' + 'A'.repeat(64), /64 lowercase hex/],
  ['busybox@md5:' + 'a'.repeat(32), /unsupported digest/],
  ['a//b', /component/],
  ['-a', /component/],
  ['a-', /component/],
  ['a..b', /component/],
  ['with space', /whitespace/],
  ['localhost:5000/', /component|empty/],
  [`x/${'a'.repeat(260)}`, /longer than 255/],
  ['bad_host:5000x/app', /registry|component/],
];

for (const [input, why] of invalid) {
  test(`refuses ${JSON.stringify(input).slice(0, 40)}`, () => {
    try {
      parseReference(input);
      assert.unreachable('parsed');
    } catch (err) {
      assert.instance(err, TspodError);
      assert.match((err as Error).message, /^invalid reference format/);
      assert.match((err as Error).message, why);
      assert.is((err as TspodError).exitCode, 125);
    }
  });
}

test('short names for local images go under localhost', () => {
  assert.is(formatReference(parseReference('mybox:dev', 'localhost')), 'localhost/mybox:dev');
  assert.is(formatReference(parseReference('quay.io/x/y:1', 'localhost')), 'quay.io/x/y:1');
});

test('a digest alone gets no default tag', () => {
  const r = parseReference(`busybox@${D}`);
  assert.is(r.tag, undefined);
  assert.is(r.digest, D);
});

test('familiar names', () => {
  assert.is(familiarName(parseReference('busybox')), 'busybox');
  assert.is(familiarName(parseReference('user/app')), 'user/app');
  assert.is(familiarName(parseReference('localhost:5000/app')), 'localhost:5000/app');
});

test('hasDomain and looksLikeId', () => {
  assert.ok(hasDomain('localhost/x'));
  assert.ok(hasDomain('a.b/x'));
  assert.ok(hasDomain('a:1/x'));
  assert.not.ok(hasDomain('user/app'));
  assert.not.ok(hasDomain('busybox'));
  assert.ok(looksLikeId('cacde22c478e'));
  assert.ok(looksLikeId('sha256:' + 'f'.repeat(64)));
  assert.not.ok(looksLikeId('ab'));
  assert.not.ok(looksLikeId('busybox'));
});

test.run();
