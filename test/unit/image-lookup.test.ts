import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findImage, requireImage } from '../../core/image/lookup';
import type { ImageRecord } from '../../core/store/store';

const D1 = 'sha256:' + '1'.repeat(64);
const D2 = 'sha256:' + '2'.repeat(64);

function img(id: string, names: string[], digests: string[], added: string): ImageRecord {
  return { id, names, digests, manifestDigest: digests[0], layers: [], size: 0, created: added, added };
}

const busybox = img('cacde22c478e' + 'a'.repeat(52), ['localhost:5000/busybox:latest', 'localhost/mybox:dev'], [D1], '2026-01-01T00:00:00Z');
const hub = img('cafe' + 'b'.repeat(60), ['docker.io/library/alpine:3'], [D2], '2026-01-02T00:00:00Z');
const dangling = img('dead' + 'c'.repeat(60), [], ['sha256:' + '3'.repeat(64)], '2026-01-03T00:00:00Z');
const images = [busybox, hub, dangling];

const cases: Array<[string, ImageRecord | undefined, string | undefined]> = [
  ['localhost:5000/busybox', busybox, 'localhost:5000/busybox:latest'],
  ['localhost:5000/busybox:latest', busybox, 'localhost:5000/busybox:latest'],
  ['busybox', busybox, 'localhost:5000/busybox:latest'],
  ['mybox:dev', busybox, 'localhost/mybox:dev'],
  ['localhost/mybox:dev', busybox, 'localhost/mybox:dev'],
  ['mybox', undefined, undefined],
  ['alpine:3', hub, 'docker.io/library/alpine:3'],
  ['docker.io/library/alpine:3', hub, 'docker.io/library/alpine:3'],
  ['alpine', undefined, undefined],
  [`busybox@${D1}`, busybox, 'localhost:5000/busybox:latest'],
  [`localhost:5000/busybox@${D1}`, busybox, 'localhost:5000/busybox:latest'],
  ['cacde22c478e', busybox, undefined],
  ['sha256:cacde22c478e' + 'a'.repeat(52), busybox, undefined],
  ['deadccc', dangling, undefined],
  ['quay.io/busybox', undefined, undefined],
];

for (const [input, want, name] of cases) {
  test(`finds ${input}`, () => {
    const r = findImage(images, input);
    assert.is(r?.image.id, want?.id);
    if (want) assert.is(r?.name, name);
  });
}

test('an ambiguous ID prefix is an error', () => {
  const a = img('abc1' + '0'.repeat(60), [], [D1], 'x');
  const b = img('abc2' + '0'.repeat(60), [], [D2], 'x');
  assert.throws(() => findImage([a, b], 'abc'), /ambiguous/);
});

test('requireImage says podman\'s words', () => {
  assert.throws(() => requireImage(images, 'nosuch'), /^nosuch: image not known$/);
});

test.run();
