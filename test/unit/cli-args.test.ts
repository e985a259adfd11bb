// How tspod reads podman's (pflag's) ways of writing flags before clipanion parses them: boolean
// flags with =true/=false, short options clustered, a short option's value in the same word.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeCli, normalizeFlags, shortOptionsOf } from '../../cmd/main';

/** normalizeFlags with the real short options of the command that args name. */
function norm(args: string[]): string[] {
  const cli = makeCli(args[0]);
  return normalizeFlags(args, () => shortOptionsOf(cli, args));
}

test('the short options of a command come from its definition: letter and whether it takes a value', () => {
  const rm = shortOptionsOf(makeCli('rm'), ['rm']);
  assert.equal([rm.get('f'), rm.get('a'), rm.get('t'), rm.get('z')], [false, false, true, undefined]);
  // run's -t is --tty (a boolean), container rm's -t is --time (a value): each command its own.
  assert.is(shortOptionsOf(makeCli('run'), ['run']).get('t'), false);
  assert.is(shortOptionsOf(makeCli('container'), ['container', 'rm', '-t0']).get('t'), true);
  assert.is(shortOptionsOf(makeCli('container'), ['container', 'run']).get('t'), false);
  assert.is(shortOptionsOf(makeCli('nosuch'), ['nosuch']).size, 0);
});

test('a value in the same word as its short option: -t0, -t=0; clusters of booleans; a value option ending a cluster', () => {
  assert.equal(norm(['rm', '-fa', '-t0']), ['rm', '-f', '-a', '-t', '0']);
  assert.equal(norm(['rm', '-t=5', 'web']), ['rm', '-t', '5', 'web']);
  assert.equal(norm(['rm', '-ft', '3', 'web']), ['rm', '-f', '-t', '3', 'web']);
  assert.equal(norm(['container', 'rm', '-ft0', 'web']), ['container', 'rm', '-f', '-t', '0', 'web']);
  assert.equal(norm(['images', '-qf', 'dangling=true']), ['images', '-q', '-f', 'dangling=true']);
});

test("run: flags before the image are rewritten, the container's command is left alone", () => {
  assert.equal(
    norm(['run', '-dp', '8080:80', '--rm=true', '-eA=1', '-v/a:/b:ro', '-w/srv', 'img', 'ls', '-la', '-t0', '--x=true']),
    ['run', '-d', '-p', '8080:80', '--rm', '-e', 'A=1', '-v', '/a:/b:ro', '-w', '/srv', 'img', 'ls', '-la', '-t0', '--x=true'],
  );
  assert.equal(norm(['run', '-it', '--tty=false', 'img', 'sh']), ['run', '-i', '-t', '--no-tty', 'img', 'sh']);
  // The value of -e is not the image, even when it looks like a flag cluster.
  assert.equal(norm(['run', '-e', '-it', 'img', '-dp']), ['run', '-e', '-it', 'img', '-dp']);
  assert.equal(norm(['exec', '-it', 'web', 'sh', '-c', 'x']), ['exec', '-i', '-t', 'web', 'sh', '-c', 'x']);
});

test('words that are not clusters of known short options stay as they are, for clipanion to judge', () => {
  assert.equal(norm(['rm', '-fz', 'web']), ['rm', '-fz', 'web']);
  assert.equal(norm(['logs', '--tail=5', 'web']), ['logs', '--tail=5', 'web']);
  assert.equal(norm(['ps', '-a', '--', '-x']), ['ps', '-a', '--', '-x']);
  assert.equal(normalizeFlags(['rm', '-fa']), ['rm', '-fa'], 'no short options known: nothing split');
});

test.run();
