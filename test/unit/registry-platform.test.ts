import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  chooseEntry, hostPlatform, matchingEntries, normalizePlatform, parsePlatform, platformFromOptions, platformOf, PlatformEntry,
} from '../../core/registry/platform';

const d = (n: number) => `sha256:${String(n).padStart(64, '0')}`;

// The shape of Docker Hub's busybox manifest list.
const dockerList: PlatformEntry[] = [
  { digest: d(1), platform: { architecture: 'amd64', os: 'linux' } },
  { digest: d(2), platform: { architecture: 'arm', os: 'linux', variant: 'v5' } },
  { digest: d(3), platform: { architecture: 'arm', os: 'linux', variant: 'v6' } },
  { digest: d(4), platform: { architecture: 'arm', os: 'linux', variant: 'v7' } },
  { digest: d(5), platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
  { digest: d(6), platform: { architecture: '386', os: 'linux' } },
  { digest: d(7), platform: { architecture: 'ppc64le', os: 'linux' } },
  { digest: d(8), platform: { architecture: 's390x', os: 'linux' } },
];

// A BuildKit OCI index: images plus attestation manifests for platform unknown/unknown.
const ociIndex: PlatformEntry[] = [
  { digest: d(11), platform: { architecture: 'amd64', os: 'linux' } },
  { digest: d(12), platform: { architecture: 'arm64', os: 'linux' } },
  { digest: d(13), platform: { architecture: 'unknown', os: 'unknown' } },
  { digest: d(14), platform: { architecture: 'unknown', os: 'unknown' } },
  { digest: d(15) },
];

test('Node architectures map to Go names, with the variants podman assumes', () => {
  assert.equal(platformOf('linux', 'x64'), { os: 'linux', architecture: 'amd64' });
  assert.equal(platformOf('linux', 'arm64'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.equal(platformOf('linux', 'arm', 7), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.equal(platformOf('linux', 'arm', '6'), { os: 'linux', architecture: 'arm', variant: 'v6' });
  assert.equal(platformOf('linux', 'arm'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.equal(platformOf('linux', 'ia32'), { os: 'linux', architecture: '386' });
  assert.equal(platformOf('linux', 'ppc64'), { os: 'linux', architecture: 'ppc64le' });
  assert.equal(platformOf('linux', 'ppc64', undefined, false), { os: 'linux', architecture: 'ppc64' });
  assert.equal(platformOf('linux', 's390x'), { os: 'linux', architecture: 's390x' });
  assert.equal(platformOf('linux', 'riscv64'), { os: 'linux', architecture: 'riscv64' });
  assert.equal(platformOf('linux', 'mipsel'), { os: 'linux', architecture: 'mipsle' });
});

test('the host platform is a Linux one with a Go architecture name', () => {
  const p = hostPlatform();
  assert.is(p.os, 'linux');
  assert.not.ok(['x64', 'ia32'].includes(p.architecture));
});

test('parsePlatform: os/arch[/variant], normalized', () => {
  assert.equal(parsePlatform('linux/arm64'), { os: 'linux', architecture: 'arm64' });
  assert.equal(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64' });
  assert.equal(parsePlatform('linux/arm/v6'), { os: 'linux', architecture: 'arm', variant: 'v6' });
  assert.equal(parsePlatform('linux/arm'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.equal(parsePlatform('Linux/x86_64'), { os: 'linux', architecture: 'amd64' });
  assert.equal(parsePlatform('linux/aarch64'), { os: 'linux', architecture: 'arm64' });
});

test('parsePlatform refuses malformed values with the expected form', () => {
  for (const bad of ['', 'linux', 'arm64', 'linux/', '/arm64', 'linux/arm/v7/extra', 'linux//v7', 'linux/ arm64', 'a b/c']) {
    assert.throws(() => parsePlatform(bad), /invalid platform .*expected OS\/ARCH/, bad);
  }
});

test('--os/--arch/--variant replace parts of the host platform; --platform wins', () => {
  const host = { os: 'linux', architecture: 'arm64', variant: 'v8' };
  assert.equal(platformFromOptions({}, host), { os: 'linux', architecture: 'arm64' });
  assert.equal(platformFromOptions({ arch: 'amd64' }, host), { os: 'linux', architecture: 'amd64' });
  assert.equal(platformFromOptions({ arch: 'arm', variant: 'v6' }, host), { os: 'linux', architecture: 'arm', variant: 'v6' });
  assert.equal(platformFromOptions({ arch: 'arm' }, host), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.equal(platformFromOptions({ os: 'windows' }, { os: 'linux', architecture: 'amd64' }), { os: 'windows', architecture: 'amd64' });
  assert.equal(platformFromOptions({ platform: 'linux/s390x', arch: 'amd64' }, host), { os: 'linux', architecture: 's390x' });
});

test('normalization of index spellings', () => {
  assert.equal(normalizePlatform({ os: 'linux', architecture: 'armhf' }), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.equal(normalizePlatform({ os: 'linux', architecture: 'armel' }), { os: 'linux', architecture: 'arm', variant: 'v6' });
  assert.equal(normalizePlatform({ os: 'linux', architecture: 'arm', variant: '7' }), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.equal(normalizePlatform({ os: 'linux', architecture: 'amd64', variant: 'v1' }), { os: 'linux', architecture: 'amd64' });
  assert.equal(normalizePlatform({ os: 'linux', architecture: 'i386' }), { os: 'linux', architecture: '386' });
});

test('choice from a Docker manifest list', () => {
  const pick = (p: string) => chooseEntry(dockerList, parsePlatform(p)).digest;
  assert.is(pick('linux/amd64'), d(1));
  assert.is(pick('linux/arm64'), d(5));
  assert.is(pick('linux/arm64/v8'), d(5));
  assert.is(pick('linux/arm/v7'), d(4));
  assert.is(pick('linux/arm'), d(4));
  assert.is(pick('linux/arm/v6'), d(3));
  assert.is(pick('linux/arm/v5'), d(2));
  assert.is(pick('linux/386'), d(6));
  assert.is(pick('linux/s390x'), d(8));
});

test('an arm v7 machine runs v6 and v5 images, best first; v8 is refused for v7', () => {
  const list: PlatformEntry[] = [
    { digest: d(1), platform: { os: 'linux', architecture: 'arm', variant: 'v5' } },
    { digest: d(2), platform: { os: 'linux', architecture: 'arm', variant: 'v6' } },
  ];
  assert.is(chooseEntry(list, parsePlatform('linux/arm/v7')).digest, d(2));
  assert.equal(matchingEntries(list, parsePlatform('linux/arm/v7')).map((e) => e.digest), [d(2), d(1)]);
  assert.throws(() => chooseEntry([{ digest: d(3), platform: { os: 'linux', architecture: 'arm', variant: 'v8' } }], parsePlatform('linux/arm/v7')));
});

test('an entry without a variant is the last resort', () => {
  const list: PlatformEntry[] = [
    { digest: d(1), platform: { os: 'linux', architecture: 'arm' } },
    { digest: d(2), platform: { os: 'linux', architecture: 'arm', variant: 'v6' } },
  ];
  assert.is(chooseEntry(list, parsePlatform('linux/arm/v7')).digest, d(2));
  assert.is(chooseEntry([list[0]], parsePlatform('linux/arm/v6')).digest, d(1));
});

test('arm64 entries written as aarch64 or with v8 match an arm64 host', () => {
  assert.is(chooseEntry([{ digest: d(9), platform: { os: 'linux', architecture: 'aarch64' } }], parsePlatform('linux/arm64/v8')).digest, d(9));
  assert.is(chooseEntry([{ digest: d(9), platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }], parsePlatform('linux/arm64')).digest, d(9));
});

test('OCI index with attestations: images are chosen, attestations never', () => {
  assert.is(chooseEntry(ociIndex, parsePlatform('linux/amd64')).digest, d(11));
  assert.is(chooseEntry(ociIndex, parsePlatform('linux/arm64')).digest, d(12));
});

test('no match: the error lists the platforms the image has (not the attestations)', () => {
  try {
    chooseEntry(ociIndex, parsePlatform('linux/riscv64'));
    assert.unreachable();
  } catch (err) {
    assert.is(
      (err as Error).message,
      'no image found in manifest list for architecture riscv64, variant "", OS linux (the image is available for linux/amd64, linux/arm64; choose one with --platform)',
    );
  }
  assert.throws(() => chooseEntry(dockerList, parsePlatform('windows/amd64')), /OS windows .*linux\/arm\/v5, linux\/arm\/v6/);
  assert.throws(() => chooseEntry([], parsePlatform('linux/amd64')), /the list names no platforms/);
});

test.run();
