import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildMapping, mappingArgs, parseSubIds, toHost } from '../../core/idmap';

const SUBUID = `# comment
alice:100000:65536
bob:165536:65536
1003:231072:1000
alice:300000:10
broken:x:1
`;

test('parses the ranges of a user by name and by uid', () => {
  assert.equal(parseSubIds(SUBUID, 'alice', 1001), [
    { start: 100000, count: 65536 },
    { start: 300000, count: 10 },
  ]);
  assert.equal(parseSubIds(SUBUID, 'carol', 1003), [{ start: 231072, count: 1000 }]);
  assert.equal(parseSubIds(SUBUID, 'nobody', 9), []);
});

test('maps 0 to the user and the ranges from 1 upwards', () => {
  const m = buildMapping(1001, 1001, parseSubIds(SUBUID, 'alice', 1001), parseSubIds(SUBUID, 'alice', 1001), true);
  assert.not.ok(m.single);
  assert.equal(m.uids, [
    { container: 0, host: 1001, size: 1 },
    { container: 1, host: 100000, size: 65536 },
    { container: 65537, host: 300000, size: 10 },
  ]);
  assert.is(toHost(m.uids, 1000), 100999);
  assert.is(toHost(m.uids, 0), 1001);
  assert.is(toHost(m.uids, 65540), 300003);
  assert.is(toHost(m.uids, 70000), undefined);
  assert.equal(mappingArgs(m).slice(0, 4), ['--uidmap', '0:1001:1', '--uidmap', '1:100000:65536']);
});

test('falls back to a single mapping without ranges or without the tools', () => {
  const none = buildMapping(1002, 1002, [], [], true);
  assert.ok(none.single);
  assert.match(none.reason!, /subuid/);
  assert.equal(none.uids, [{ container: 0, host: 1002, size: 1 }]);
  const noTools = buildMapping(1001, 1001, [{ start: 1, count: 5 }], [{ start: 1, count: 5 }], false);
  assert.ok(noTools.single);
  assert.match(noTools.reason!, /uidmap/);
});

test.run();
