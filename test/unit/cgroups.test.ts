import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { limitsWarning } from '../../core/cgroups';

test('no limits asked for: nothing to say', () => {
  assert.is(limitsWarning([], { version: 'v1', delegated: [] }), undefined);
});

test('cgroup v1: limits are refused with podman\'s words and the remedy', () => {
  const w = limitsWarning(['memory'], { version: 'v1', delegated: [] })!;
  assert.match(w, /not supported and ignored on cgroups V1 rootless systems/);
  assert.match(w, /cgroup v2 with delegation/);
});

test('cgroup v2 without the controller delegated names what is missing', () => {
  const w = limitsWarning(['memory', 'pids'], { version: 'v2', ownPath: '/user.slice/u', delegated: ['pids'] })!;
  assert.match(w, /\(memory\) are ignored: the memory controller is not delegated to \/user.slice\/u/);
});

test('delegated controllers: still said to be ignored, never silently dropped', () => {
  const w = limitsWarning(['cpu'], { version: 'v2', ownPath: '/x', delegated: ['cpu', 'memory'] })!;
  assert.match(w, /does not apply them yet/);
});

test.run();
