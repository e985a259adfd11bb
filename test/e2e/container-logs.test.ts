// `logs` of detached containers: complete and in order after a burst, stdout and stderr apart,
// -f that ends with the container, --tail, --since, --until and -t.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TEST_USER } from '../lib';
import { closeBed, lines, openBed, PROBE, spawnTspod, type Bed } from './container-helpers';
import { show } from './image-helpers';

let bed: Bed;

test.before(async () => {
  bed = await openBed(TEST_USER, [PROBE]);
  // The containers of this file, started together: a burst, both streams, and a slow one.
  await Promise.all([
    bed.ok(['run', '-d', '--name', 'burst', PROBE, '/probe', 'lines', '100000']),
    bed.ok(['run', '-d', '--name', 'both', PROBE, '/probe', 'lines', '6', 'both']),
    bed.ok(['run', '-d', '--name', 'slow', PROBE, 'sh', '-c', 'echo early; sleep 1.2; echo late; printf "no newline"']),
  ]);
  await bed.ok(['wait', 'burst', 'both']);
});

test.after(async () => {
  await closeBed(bed);
});

const RFC3339NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;

/** An RFC 3339 time with its fraction padded to nanoseconds, so that strings compare as times. */
const nanos = (t: string) => t.slice(0, 19) + '.' + (/\.(\d+)Z$/.exec(t)?.[1] ?? '').padEnd(9, '0');

test('a burst of 100,000 lines: logs prints every line, in order, once', async () => {
  const t0 = Date.now();
  const r = await bed.ok(['logs', 'burst']);
  const ms = Date.now() - t0;
  const got = r.stdout.split('\n');
  assert.is(got.pop(), '', 'ends with a newline');
  assert.is(got.length, 100_000);
  const bad = got.findIndex((l, i) => l !== `line ${i + 1}`);
  assert.is(bad, -1, `line ${bad + 1} is ${JSON.stringify(got[bad])}`);
  assert.is(r.stderr, '');
  assert.ok(ms < 10_000, `logs of 100,000 lines took ${ms} ms`);
});

test('--tail N prints the last N lines; --tail 0 none', async () => {
  assert.is((await bed.ok(['logs', '--tail', '3', 'burst'])).stdout, 'line 99998\nline 99999\nline 100000\n');
  assert.is((await bed.ok(['logs', '--tail', '0', 'burst'])).stdout, '');
  assert.is((await bed.ok(['logs', '--tail=-1', 'both'])).stdout, 'line 1\nline 3\nline 5\n', '-1 means all');
});

test("stdout and stderr stay apart: what the container wrote to each comes out on tspod's own", async () => {
  const r = await bed.ok(['logs', 'both']);
  assert.is(r.stdout, 'line 1\nline 3\nline 5\n');
  assert.is(r.stderr, 'line 2\nline 4\nline 6\n');
});

test('-t: an RFC 3339 nanosecond timestamp before each line, never going backwards within a stream', async () => {
  const r = await bed.ok(['logs', '-t', 'both']);
  // (between the two streams the order is the monitor's reading order, as with conmon)
  for (const [stream, want] of [[r.stdout, ['line 1', 'line 3', 'line 5']], [r.stderr, ['line 2', 'line 4', 'line 6']]] as const) {
    const got = lines(stream).map((l) => {
      const [time, ...rest] = l.split(' ');
      assert.match(time, RFC3339NANO, l);
      return { time, text: rest.join(' ') };
    });
    assert.equal(got.map((x) => x.text), want);
    for (let i = 1; i < got.length; i++) assert.ok(nanos(got[i].time) >= nanos(got[i - 1].time), `${got[i - 1].time} <= ${got[i].time}`);
  }
  const tail = await bed.ok(['logs', '-t', '--tail', '1', 'burst']);
  assert.match(tail.stdout, /^\S+ line 100000\n$/);
});

test('logs -f prints lines as they come and returns when the container ends', async () => {
  await bed.ok(['run', '-d', '--name', 'follow', PROBE, 'sh', '-c', 'echo one; sleep 1.5; echo two; printf "no newline"']);
  const live = spawnTspod(TEST_USER, bed.store, ['logs', '-f', 'follow']);
  await live.waitFor('one\n', 5_000);
  const status = (await bed.ok(['inspect', '--format', '{{.State.Status}}', 'follow'])).stdout;
  assert.is(status, 'running\n', 'the first line came while the container still ran');
  assert.not.ok(live.stdout().includes('two'));
  const r = await Promise.race([live.exited, new Promise<undefined>((res) => setTimeout(() => res(undefined), 15_000))]);
  assert.ok(r, `logs -f still running after 15 s: ${live.stdout()}`);
  assert.is(r!.code, 0, show(r!));
  assert.is(r!.stdout, 'one\ntwo\nno newline', 'everything, the unterminated last line too');
  assert.is((await bed.ok(['inspect', '--format', '{{.State.Status}}', 'follow'])).stdout, 'exited\n');
  const again = await bed.ok(['logs', '-f', 'follow']);
  assert.is(again.stdout, 'one\ntwo\nno newline', '-f of an ended container prints it all and returns');
});

test('--since and --until: RFC 3339 times, Unix seconds and durations', async () => {
  await bed.ok(['wait', 'slow']);
  const stamped = lines((await bed.ok(['logs', '-t', 'slow'])).stdout);
  const [early, late] = stamped.map((l) => Date.parse(l.split(' ')[0]));
  assert.ok(late - early >= 1000, `the lines are ${late - early} ms apart`);
  const mid = new Date((early + late) / 2).toISOString();
  assert.is((await bed.ok(['logs', '--since', mid, 'slow'])).stdout, 'late\nno newline');
  assert.is((await bed.ok(['logs', '--until', mid, 'slow'])).stdout, 'early\n');
  assert.is((await bed.ok(['logs', '--since', String((early + late) / 2000), 'slow'])).stdout, 'late\nno newline');
  assert.is((await bed.ok(['logs', '--since', '1h', 'slow'])).stdout, 'early\nlate\nno newline');
  assert.is((await bed.ok(['logs', '--until', '1h', 'slow'])).stdout, '', 'nothing is older than an hour');
  const bad = await bed.run(['logs', '--since', 'yesterday-ish', 'slow']);
  assert.is(bad.code, 125, show(bad));
  assert.match(bad.stderr, /^Error: invalid time "yesterday-ish"/);
});

test('a created container has no logs yet; logs of two containers are prefixed with their IDs', async () => {
  await bed.ok(['create', '--name', 'quiet', PROBE, 'true']);
  const r = await bed.ok(['logs', 'quiet']);
  assert.is(r.stdout + r.stderr, '');
  const id = (await bed.ok(['inspect', '--format', '{{.Id}}', 'both'])).stdout.trim().slice(0, 12);
  const two = await bed.ok(['logs', 'both', 'quiet']);
  assert.is(two.stdout, `${id} line 1\n${id} line 3\n${id} line 5\n`);
});

test.run();
