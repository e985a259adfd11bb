import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  bytesSize,
  displaySize,
  fromHumanSize,
  humanDuration,
  humanSize,
  humanSizeWithPrecision,
  psStatus,
  ramInBytes,
  timeAgo,
} from '../../core/format/units';
import { GO_ZERO_TIME, goTimeString, parseRfc3339, rfc3339, rfc3339Nano, Timestamp, toGoTime } from '../../core/format/time';
import { compileTemplate } from '../../core/format/template';
import { toJson } from '../../core/format/json';

const KB = 1000, MB = 1000 * KB, GB = 1000 * MB, TB = 1000 * GB, PB = 1000 * TB;
const KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB, TiB = 1024 * GiB, PiB = 1024 * TiB;

// go-units size_test.go
test('BytesSize (go-units cases)', () => {
  const cases: [number, string][] = [
    [1024, '1KiB'],
    [1024 * 1024, '1MiB'],
    [1048576, '1MiB'],
    [2 * MiB, '2MiB'],
    [3.42 * GiB, '3.42GiB'],
    [5.372 * TiB, '5.372TiB'],
    [2.22 * PiB, '2.22PiB'],
    [KiB * KiB * KiB * KiB * KiB * PiB, '1.049e+06YiB'],
  ];
  for (const [n, want] of cases) assert.is(bytesSize(n), want, String(n));
});

test('HumanSize (go-units cases)', () => {
  const cases: [number, string][] = [
    [1000, '1kB'],
    [1024, '1.024kB'],
    [1000000, '1MB'],
    [1048576, '1.049MB'],
    [2 * MB, '2MB'],
    [3.42 * GB, '3.42GB'],
    [5.372 * TB, '5.372TB'],
    [2.22 * PB, '2.22PB'],
    [10000000000000 * PB, '1e+04YB'],
  ];
  for (const [n, want] of cases) assert.is(humanSize(n), want, String(n));
});

test('HumanSizeWithPrecision 3 and podman SIZE text', () => {
  assert.is(humanSizeWithPrecision(121460583, 3), '121MB');
  assert.is(displaySize(121460583), '121 MB');
  assert.is(displaySize(2131619), '2.13 MB');
  assert.is(displaySize(1200), '1.2 kB');
  assert.is(displaySize(0), '0 B');
  assert.is(displaySize(999), '999 B');
  // %.3g rounds 999.5 kB up to an exponent, as podman prints it.
  assert.is(displaySize(999500), '1e+03 kB');
  assert.is(displaySize(5 * 1024 * 1024 * 1024), '5.37 GB');
});

test('FromHumanSize (go-units cases)', () => {
  const ok: [string, number][] = [
    ['32', 32], ['32b', 32], ['32B', 32], ['32k', 32 * KB], ['32K', 32 * KB], ['32kb', 32 * KB], ['32Kb', 32 * KB],
    ['32Mb', 32 * MB], ['32Gb', 32 * GB], ['32Tb', 32 * TB], ['32Pb', 32 * PB],
    ['32.5kB', 32.5 * KB], ['32.5 kB', 32.5 * KB], ['32.5 B', 32], ['0.3 K', 300],
  ];
  for (const [s, want] of ok) assert.is(fromHumanSize(s), want, s);
  for (const s of ['', 'hello', '-32', '.3kB', ' 32 ', '32m b', '32bm', '1.2.3']) {
    assert.throws(() => fromHumanSize(s), /invalid size/, s);
  }
});

test('RAMInBytes (go-units cases)', () => {
  const ok: [string, number][] = [
    ['32', 32], ['32b', 32], ['32B', 32], ['32k', 32 * KiB], ['32K', 32 * KiB], ['32kb', 32 * KiB], ['32Kb', 32 * KiB],
    ['32Kib', 32 * KiB], ['32KIB', 32 * KiB], ['32Mb', 32 * MiB], ['32Gb', 32 * GiB], ['32Tb', 32 * TiB],
    ['32Pb', 32 * PiB], ['32PB', 32 * PiB], ['32P', 32 * PiB], ['32.3', 32],
    ['32.3 mb', Math.trunc(32.3 * MiB)], ['0.3MB', Math.trunc(0.3 * MiB)],
  ];
  for (const [s, want] of ok) assert.is(ramInBytes(s), want, s);
  for (const s of ['', 'hello', '-32', ' 32 ', '32m b', '32bm']) assert.throws(() => ramInBytes(s), /invalid size/, s);
});

// go-units duration_test.go
test('HumanDuration (go-units cases)', () => {
  const s = 1000, min = 60 * s, h = 60 * min, day = 24 * h, week = 7 * day, month = 30 * day, year = 365 * day;
  const cases: [number, string][] = [
    [450, 'Less than a second'],
    [1 * s, '1 second'],
    [45 * s, '45 seconds'],
    [46 * s, '46 seconds'],
    [59 * s, '59 seconds'],
    [60 * s, 'About a minute'],
    [1 * min, 'About a minute'],
    [3 * min, '3 minutes'],
    [35 * min, '35 minutes'],
    [35 * min + 40 * s, '35 minutes'],
    [45 * min, '45 minutes'],
    [45 * min + 40 * s, '45 minutes'],
    [46 * min, '46 minutes'],
    [59 * min, '59 minutes'],
    [1 * h, 'About an hour'],
    [1 * h + 29 * min, 'About an hour'],
    [1 * h + 31 * min, '2 hours'],
    [1 * h + 59 * min, '2 hours'],
    [3 * h, '3 hours'],
    [3 * h + 29 * min, '3 hours'],
    [3 * h + 31 * min, '4 hours'],
    [3 * h + 59 * min, '4 hours'],
    [3 * h + 60 * min, '4 hours'],
    [24 * h, '24 hours'],
    [1 * day + 12 * h, '36 hours'],
    [2 * day, '2 days'],
    [7 * day, '7 days'],
    [13 * day + 5 * h, '13 days'],
    [2 * week, '2 weeks'],
    [2 * week + 4 * day, '2 weeks'],
    [3 * week, '3 weeks'],
    [4 * week, '4 weeks'],
    [4 * week + 3 * day, '4 weeks'],
    [1 * month, '4 weeks'],
    [1 * month + 2 * week, '6 weeks'],
    [2 * month, '2 months'],
    [2 * month + 2 * week, '2 months'],
    [3 * month, '3 months'],
    [3 * month + 1 * week, '3 months'],
    [5 * month + 2 * week, '5 months'],
    [13 * month, '13 months'],
    [23 * month, '23 months'],
    [24 * month, '24 months'],
    [24 * month + 2 * week, '2 years'],
    [3 * year + 2 * month, '3 years'],
    [-5 * s, 'Less than a second'],
  ];
  for (const [ms, want] of cases) assert.is(humanDuration(ms), want, String(ms));
});

test('timeAgo and psStatus give podman\'s CREATED and STATUS texts', () => {
  const now = 1795336260.5 * 1000;
  assert.is(timeAgo(1795336259.1, now), '1 second ago');
  assert.is(timeAgo('2026-11-22T07:34:42Z', Date.parse('2026-11-22T08:31:00Z')), '56 minutes ago');
  assert.is(psStatus({ state: 'running', startedAt: 1795336258 }, now), 'Up 2 seconds ago');
  assert.is(psStatus({ state: 'exited', exitedAt: 1795336258, exitCode: 3 }, now), 'Exited (3) 2 seconds ago');
  assert.is(psStatus({ state: 'stopped', exitedAt: 1795336258 }, now), 'Exited (0) 2 seconds ago');
  assert.is(psStatus({ state: 'created' }, now), 'Created');
  assert.is(psStatus({ state: 'paused' }, now), 'Paused');
  assert.is(psStatus({ state: 'running', startedAt: 1795336258, health: 'healthy' }, now), 'Up 2 seconds ago (healthy)');
});

test('Go time text: Time.String and RFC3339Nano with nanoseconds', () => {
  const t = parseRfc3339('2026-11-22T08:30:58.393151527Z');
  assert.equal(t, { sec: 1795336258, nsec: 393151527 });
  assert.is(rfc3339Nano(t), '2026-11-22T08:30:58.393151527Z');
  assert.is(goTimeString(t), '2026-11-22 08:30:58.393151527 +0000 UTC');
  assert.is(goTimeString(1795332882), '2026-11-22 07:34:42 +0000 UTC');
  assert.is(rfc3339Nano(1795332882), '2026-11-22T07:34:42Z');
  assert.is(rfc3339Nano('2026-11-22T08:30:58.500000000Z'), '2026-11-22T08:30:58.5Z');
  assert.is(rfc3339(t), '2026-11-22T08:30:58Z');
  assert.is(goTimeString(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 60))), '2026-01-02 03:04:05.06 +0000 UTC');
});

test('Go\'s zero time and offsets', () => {
  assert.is(rfc3339Nano(GO_ZERO_TIME), '0001-01-01T00:00:00Z');
  assert.equal(parseRfc3339('0001-01-01T00:00:00Z'), GO_ZERO_TIME);
  const t = parseRfc3339('2026-11-22T09:30:58.1+01:00');
  assert.is(t.sec, 1795336258);
  assert.is(rfc3339Nano(t), '2026-11-22T09:30:58.1+01:00');
  assert.is(goTimeString(t), '2026-11-22 09:30:58.1 +0100 +0100');
  assert.is(goTimeString({ ...t, zone: 'CET' }), '2026-11-22 09:30:58.1 +0100 CET');
  assert.is(rfc3339Nano(parseRfc3339('2026-11-22T02:00:00-05:30')), '2026-11-22T02:00:00-05:30');
});

test('malformed timestamps are errors', () => {
  for (const s of ['', '2026-11-22', '2026-11-22T08:30:58', '2026-11-22T08:30:58.1234567890Z', 'yesterday']) {
    assert.throws(() => toGoTime(s), /invalid timestamp/, s);
  }
  assert.throws(() => toGoTime(new Date(NaN)), /invalid time/);
});

test('Timestamp: Go time.Time in templates and JSON, nanoseconds kept', () => {
  const created = new Timestamp('2026-11-22T08:30:58.393151527Z');
  const t = compileTemplate('{{.Created}}|{{.Created.Unix}}|{{printf "%s" .Created}}|{{if .Created}}set{{end}}');
  assert.is(t.execute({ Created: created }), '2026-11-22 08:30:58.393151527 +0000 UTC|1795336258|2026-11-22 08:30:58.393151527 +0000 UTC|set');
  assert.is(toJson({ Created: created }), '{"Created":"2026-11-22T08:30:58.393151527Z"}');
  assert.is(JSON.stringify(created), '"2026-11-22T08:30:58.393151527Z"');
  assert.is(String(new Timestamp(GO_ZERO_TIME)), '0001-01-01 00:00:00 +0000 UTC');
});

test.run();
