// `tspod attach` as the test user: a detached container's live output on stdout and stderr, its
// stdin when it was started with -i, detaching with ctrl-p ctrl-q on a terminal, and the
// container's exit code.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TEST_USER, TSPOD_BIN, withPty } from '../lib';
import { IMAGE, openBed, show, until, type Bed } from './container-session-util';

let bed: Bed;

test.before(async () => {
  bed = await openBed();
});

test.after(() => bed?.close());

test('attach shows the live output, stdout and stderr apart, and ends with the container\'s code', async () => {
  // Output starts after a pause, so that attach is connected by then.
  const script = 'sleep 1.5; echo out-1; echo err-1 >&2; sleep 0.2; echo out-2; exit 7';
  assert.is((await bed.t(['run', '-d', '--name', 'talker', IMAGE, 'sh', '-c', script])).code, 0);
  const r = await bed.t(['attach', 'talker']);
  assert.is(r.code, 7, show(r));
  assert.is(r.stdout, 'out-1\nout-2\n');
  assert.is(r.stderr, 'err-1\n');
  const ps = await bed.t(['ps', '-a', '--format', '{{.Names}} {{.Status}}']);
  assert.match(ps.stdout, /talker Exited \(7\)/);
});

test('stdin goes to a container started with -i, and not with --no-stdin', async () => {
  const script = (wait: number) => `sleep 1; if read -t ${wait} line; then echo got:$line; else echo nothing; fi; exit 4`;
  assert.is((await bed.t(['run', '-di', '--name', 'reader', IMAGE, 'sh', '-c', script(5)])).code, 0);
  const r = await bed.t(['attach', 'reader'], { input: 'hello\n' });
  assert.is(r.code, 4, show(r));
  assert.is(r.stdout, 'got:hello\n');

  assert.is((await bed.t(['run', '-di', '--name', 'deaf', IMAGE, 'sh', '-c', script(1)])).code, 0);
  const n = await bed.t(['attach', '--no-stdin', 'deaf'], { input: 'hello\n' });
  assert.is(n.code, 4, show(n));
  assert.is(n.stdout, 'nothing\n');
});

test('on a terminal: typing reaches the container, ctrl-p ctrl-q detaches and leaves it running', async () => {
  assert.is((await bed.t(['run', '-dit', '--name', 'shell', IMAGE, 'sh'])).code, 0);
  const r = await withPty(TEST_USER, [TSPOD_BIN, '--root', bed.store, 'attach', 'shell'], {
    steps: [
      // The prompt came before we attached: type first, then look for what the shell printed.
      { send: 'echo mark-$((6*7))\r' },
      { expect: 'mark-42', send: '\x10\x11' },
    ],
    timeout: 20_000,
  });
  assert.is(r.stuckAt, undefined, r.output);
  assert.is(r.code, 0, r.output);
  const still = await bed.t(['ps', '--format', '{{.Names}}']);
  assert.match(still.stdout, /^shell$/m, 'still running after detaching');
  // Attached again, the shell is the same one and ends with what we type.
  const again = await withPty(TEST_USER, [TSPOD_BIN, '--root', bed.store, 'attach', 'shell'], {
    steps: [{ send: 'exit 5\r' }],
    timeout: 20_000,
  });
  assert.is(again.code, 5, again.output);
  await until('the shell to end', async () => ((await bed.t(['ps', '--format', '{{.Names}}'])).stdout.includes('shell') ? undefined : true));
});

test('attach refuses a container that is not running', async () => {
  assert.is((await bed.t(['create', '--name', 'idle', IMAGE, 'true'])).code, 0);
  const r = await bed.t(['attach', 'idle']);
  assert.is(r.code, 125);
  assert.is(r.stderr.trim(), 'Error: you can only attach to running containers');
  const none = await bed.t(['attach', 'nosuch']);
  assert.is(none.code, 125);
  assert.is(none.stderr.trim(), 'Error: no container with name or ID "nosuch" found: no such container');
});

test.run();
