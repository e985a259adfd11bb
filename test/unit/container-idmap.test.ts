import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { keepIdMapping, shiftMapping } from '../../core/container/spec';
import type { IdMapping } from '../../core/idmap';

const std: IdMapping = {
  uids: [
    { container: 0, host: 1001, size: 1 },
    { container: 1, host: 100000, size: 65536 },
  ],
  gids: [
    { container: 0, host: 1001, size: 1 },
    { container: 1, host: 100000, size: 65536 },
  ],
  single: false,
};

test('keep-id maps the user to the same id inside, as podman does', () => {
  const k = keepIdMapping(std, 1001, 1001);
  assert.equal(k.uids, [
    { container: 0, host: 100000, size: 1001 },
    { container: 1001, host: 1001, size: 1 },
    { container: 1002, host: 101001, size: 64535 },
  ]);
  assert.equal(k.gids, k.uids);
});

test('keep-id without subordinate ids maps only the user', () => {
  const k = keepIdMapping({ ...std, single: true, uids: [std.uids[0]], gids: [std.gids[0]] }, 1001, 1001);
  assert.equal(k.uids, [{ container: 1001, host: 1001, size: 1 }]);
});

test('the fuse-overlayfs shift gives files unpacked for the standard mapping their owners back', () => {
  const k = keepIdMapping(std, 1001, 1001);
  // container id shown <- id on disk as seen inside the keep-id namespace
  assert.equal(shiftMapping(std.uids, k.uids), [
    { container: 0, host: 1001, size: 1 }, // root's files: host 1001, 1001 inside keep-id
    { container: 1, host: 0, size: 1001 }, // 1..1001: host 100000.., 0.. inside
    { container: 1002, host: 1002, size: 64535 },
  ]);
  // With the same mapping on both sides the shift is the identity.
  assert.equal(shiftMapping(std.uids, std.uids), [
    { container: 0, host: 0, size: 1 },
    { container: 1, host: 1, size: 65536 },
  ]);
});

test.run();
