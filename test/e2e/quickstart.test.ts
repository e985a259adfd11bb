// The README's first command: packaging/quickstart.sh, run as root, ends with a container from the
// loopback registry, run by a normal user. (It rebuilds dist/tspod as part of its job.)

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT } from '../lib';

test('packaging/quickstart.sh installs, pulls, lists and runs a container as a normal user', () => {
  const r = spawnSync('sh', [path.join(REPO_ROOT, 'packaging', 'quickstart.sh')], {
    cwd: '/',
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: '/root', LANG: 'C.UTF-8' },
    timeout: 600_000,
  });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.is(r.status, 0, out);
  assert.match(r.stdout, /Hello from a rootless tspod container\n/);
  assert.match(r.stdout, /^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE\nlocalhost:5000\/busybox +latest +[0-9a-f]{12} /m);
  // As the demo user, not root: uid 0 inside is that user outside.
  const uid = spawnSync('id', ['-u', 'tspod-demo'], { encoding: 'utf8' }).stdout.trim();
  assert.match(r.stdout, new RegExp(`^ +0 +${uid} +1$`, 'm'));
  assert.ok(fs.existsSync('/home/tspod-demo/.local/bin/tspod'), 'installed for the user');
});

test.run();
