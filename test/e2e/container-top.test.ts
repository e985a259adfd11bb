// `tspod top` as the test user: the processes of the container's pid namespace, with the pids,
// parents and users the container sees, in podman's default columns or chosen descriptors.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IMAGE, openBed, show, until, type Bed } from './container-session-util';

let bed: Bed;
let hostPid = 0;

/** A table of `top` split into rows of columns (the last column may hold spaces). */
function table(out: string, columns: number): string[][] {
  return out
    .trim()
    .split('\n')
    .map((line) => {
      const cells = line.trim().split(/\s+/);
      return [...cells.slice(0, columns - 1), cells.slice(columns - 1).join(' ')];
    });
}

test.before(async () => {
  bed = await openBed();
  const r = await bed.t(['run', '-d', '--name', 'web', IMAGE, 'sleep', '600']);
  assert.is(r.code, 0, show(r));
  const d = await bed.t(['exec', '-d', '-u', '1000', 'web', 'sleep', '555']);
  assert.is(d.code, 0, show(d));
  const pid = await bed.t(['inspect', '--format', '{{.State.Pid}}', 'web']);
  hostPid = Number(pid.stdout.trim());
  assert.ok(hostPid > 1, show(pid));
  await until('the exec process', async () => ((await bed.t(['top', 'web'])).stdout.includes('sleep 555') ? true : undefined));
});

test.after(() => bed?.close());

test('the default columns are podman\'s; pid 1 is the command, as the container sees it', async () => {
  const r = await bed.t(['top', 'web']);
  assert.is(r.code, 0, show(r));
  const rows = table(r.stdout, 8);
  assert.equal(rows[0], ['USER', 'PID', 'PPID', '%CPU', 'ELAPSED', 'TTY', 'TIME', 'COMMAND']);
  assert.is(rows.length, 3, r.stdout);
  const [user, pid, ppid, cpu, elapsed, tty, time, command] = rows[1];
  assert.equal([user, pid, ppid, command], ['root', '1', '0', 'sleep 600']);
  assert.match(cpu, /^\d+\.\d{3}$/);
  assert.match(elapsed, /^(\d+m)?\d+(\.\d+)?m?s$/);
  assert.is(tty, '?');
  assert.is(time, '0s');
  // The exec'd process: a user of the container by its name, a pid of the container's, and no
  // parent inside it.
  const other = rows[2];
  assert.equal([other[0], other[2], other[7]], ['user', '0', 'sleep 555']);
  assert.ok(Number(other[1]) > 1 && Number(other[1]) < 100, `container pid ${other[1]}`);
});

test('only the container\'s processes: the host pid of its pid 1 is the container\'s process', async () => {
  const r = await bed.t(['top', 'web', 'pid', 'hpid', 'args']);
  const rows = table(r.stdout, 3);
  assert.equal(rows[0], ['PID', 'HPID', 'COMMAND']);
  assert.equal(rows[1], ['1', String(hostPid), 'sleep 600']);
  assert.is(rows.length, 3, r.stdout);
  assert.not.ok(rows.some((row) => /tspod|monitor|helper|init$/.test(row[2])), r.stdout);
});

test('descriptors: words, comma lists, %-codes and ps style -eo', async () => {
  const words = await bed.t(['top', 'web', 'pid', 'comm']);
  assert.equal(table(words.stdout, 2), [['PID', 'COMMAND'], ['1', 'sleep'], [table(words.stdout, 2)[2][0], 'sleep']]);
  const list = await bed.t(['top', 'web', 'user,uid,group,pid,args']);
  assert.equal(table(list.stdout, 5)[2].filter((_, i) => i !== 3), ['user', '1000', 'user', 'sleep 555']);
  const codes = await bed.t(['top', 'web', '%U', '%p', '%c']);
  assert.equal(table(codes.stdout, 3)[0], ['USER', 'PID', 'COMMAND']);
  const ps = await bed.t(['top', 'web', '-eo', 'user,pid,comm']);
  assert.equal(table(ps.stdout, 3)[1], ['root', '1', 'sleep']);
});

test('an unknown descriptor, and a stopped container, are errors', async () => {
  const bad = await bed.t(['top', 'web', 'pid', 'nonsense']);
  assert.is(bad.code, 125);
  assert.is(bad.stderr.trim(), "Error: 'nonsense': unknown descriptor");
  assert.is((await bed.t(['create', '--name', 'idle', IMAGE, 'true'])).code, 0);
  const stopped = await bed.t(['top', 'idle']);
  assert.is(stopped.code, 125);
  assert.is(stopped.stderr.trim(), 'Error: top can only be used on running containers: container state improper');
});

test.run();
