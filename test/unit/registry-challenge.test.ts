import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseChallenges } from '../../core/registry/challenge';

test('Docker Hub bearer challenge', () => {
  const c = parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"');
  assert.equal(c, [{ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } }]);
});

test('basic challenge; scheme and parameter names are case-insensitive', () => {
  assert.equal(parseChallenges('Basic Realm="Registry Realm"'), [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
  assert.equal(parseChallenges('BEARER REALM=x'), [{ scheme: 'bearer', params: { realm: 'x' } }]);
});

test('commas and escaped quotes inside quoted values', () => {
  const c = parseChallenges('Bearer realm="https://a/token",scope="repository:a:pull,push repository:b:pull",error_description="say \\"hi\\""');
  assert.is(c.length, 1);
  assert.is(c[0].params.scope, 'repository:a:pull,push repository:b:pull');
  assert.is(c[0].params.error_description, 'say "hi"');
});

test('several challenges in one header (Node joins repeated headers with commas)', () => {
  const c = parseChallenges('Basic realm="r1", Bearer realm="https://t/token",service="s"');
  assert.equal(c.map((x) => x.scheme), ['basic', 'bearer']);
  assert.is(c[1].params.service, 's');
  assert.equal(parseChallenges(['Basic realm="a"', 'Bearer realm="b"']).map((x) => x.params.realm), ['a', 'b']);
});

test('spaces around = and after commas, unquoted values', () => {
  const c = parseChallenges('Bearer  realm = "https://t/token" ,  service=reg ,error=insufficient_scope');
  assert.equal(c[0].params, { realm: 'https://t/token', service: 'reg', error: 'insufficient_scope' });
});

test('token68 is kept under the empty name', () => {
  assert.equal(parseChallenges('Negotiate abc123=='), [{ scheme: 'negotiate', params: { '': 'abc123==' } }]);
});

test('hostile and broken headers never throw and give what can be read', () => {
  const table: [string | undefined, string[]][] = [
    [undefined, []],
    ['', []],
    [',,,', []],
    ['=', []],
    ['realm="no scheme"', []],
    ['Bearer realm="unterminated', ['bearer']],
    ['Bearer ,,, realm="x"', ['bearer']],
    ['"quoted" Bearer', []],
    ['Bearer realm="a"\r\nInjected: header', ['bearer']],
    ['x'.repeat(100000), ['x'.repeat(100000).toLowerCase()]],
  ];
  for (const [input, schemes] of table) {
    const c = parseChallenges(input);
    assert.equal(c.map((x) => x.scheme), schemes, String(input).slice(0, 40));
  }
  assert.is(parseChallenges('Bearer realm="unterminated')[0].params.realm, 'unterminated');
});

test.run();
