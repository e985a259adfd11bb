// Networking of `tspod run`: --network none, the default (pasta) with the way to reach a server
// on the host's loopback (podman's `--network pasta:-T,PORT`, and slirp4netns'
// allow_host_loopback), and -p publishing a container's port on the host.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TEST_USER } from '../lib';
import { closeBed, freePort, httpGet, inspectOne, lines, openBed, pongServer, PROBE, waitUntil, type Bed } from './container-helpers';
import { show } from './image-helpers';

let bed: Bed;
let pong: { port: number; close: () => Promise<void> };

test.before(async () => {
  bed = await openBed(TEST_USER, [PROBE]);
  pong = await pongServer();
});

test.after(async () => {
  await pong.close();
  await closeBed(bed);
});

/** `run --rm [FLAGS] PROBE sh -c SCRIPT`: stdout, whatever the exit code. */
async function sh(script: string, flags: string[] = []): Promise<string> {
  const r = await bed.run(['run', '--rm', ...flags, PROBE, 'sh', '-c', script]);
  assert.ok(r.code === 0 || r.code === 1, show(r));
  return r.stdout;
}

test('--network none: only lo, and nothing outside reachable', async () => {
  const out = await sh(`/probe ifaces; /probe tcp 127.0.0.1 ${pong.port}`, ['--network', 'none']);
  assert.equal(lines(out), ['lo', 'error: connect 127.0.0.1: Connection refused']);
});

test("the default network (pasta): an interface besides lo; the host's loopback only through pasta's -T", async () => {
  const [dflt, viaT, viaSlirp] = await Promise.all([
    sh(`/probe ifaces; /probe tcp 127.0.0.1 ${pong.port}`),
    sh(`/probe tcp 127.0.0.1 ${pong.port} hello`, ['--network', `pasta:-T,${pong.port}`]),
    sh(`/probe tcp 10.0.2.2 ${pong.port} slirp`, ['--network', 'slirp4netns:allow_host_loopback=true']),
  ]);
  const [first, ...rest] = lines(dflt);
  assert.is(first, 'lo');
  assert.ok(rest.length >= 2, `an interface besides lo: ${dflt}`);
  assert.is(rest[rest.length - 1], 'error: connect 127.0.0.1: Connection refused', "127.0.0.1 is the container's own loopback");
  assert.is(viaT, 'pong:hello', '--network pasta:-T,PORT forwards the container loopback port to the host');
  assert.is(viaSlirp, 'pong:slirp', 'slirp4netns:allow_host_loopback=true: the host at 10.0.2.2');
  const bad = await bed.run(['run', '--rm', '--network', 'none:-T,1', PROBE, '/probe', 'id']);
  assert.is(bad.code, 125, show(bad));
});

test('-p publishes a container port: httpd on 80 answers at 127.0.0.1:PORT on the host, ps and inspect show it', async () => {
  const [port, port2] = [await freePort(), await freePort()];
  const web = 'mkdir -p /www && echo hello-from-ctr > /www/index.html && exec httpd -f -p 80 -h /www';
  const [a, b] = await Promise.all([
    bed.ok(['run', '-d', '--name', 'web', '-p', `127.0.0.1:${port}:80`, PROBE, 'sh', '-c', web]),
    bed.ok(['run', '-d', '--name', 'web2', '-p', `${port2}:80/tcp`, PROBE, 'sh', '-c', web]),
  ]);
  assert.match(a.stdout, /^[0-9a-f]{64}\n$/);
  assert.match(b.stdout, /^[0-9a-f]{64}\n$/);
  for (const p of [port, port2]) {
    let last = '';
    await waitUntil(
      async () => {
        const r = await httpGet(p).catch((e: Error) => ({ status: 0, body: e.message }));
        last = `${r.status} ${r.body}`;
        return r.status === 200;
      },
      10_000,
      `httpd answering on 127.0.0.1:${p} (last: ${last})`,
    );
    assert.equal(await httpGet(p), { status: 200, body: 'hello-from-ctr\n' });
  }
  const ps = lines((await bed.ok(['ps', '--format', '{{.Names}} {{.Ports}}'])).stdout).sort();
  assert.equal(ps, [`web 127.0.0.1:${port}->80/tcp`, `web2 0.0.0.0:${port2}->80/tcp`]);
  const i = await inspectOne(bed, 'web');
  assert.equal(i.NetworkSettings.Ports, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] });
  assert.equal(i.HostConfig.PortBindings, i.NetworkSettings.Ports);
  await bed.ok(['rm', '-f', 'web', 'web2']);
  await waitUntil(async () => (await httpGet(port).then(() => false, () => true)), 5_000, `port ${port} closed after rm -f`);
});

test('-p with --network none is refused', async () => {
  const r = await bed.run(['run', '--rm', '--network', 'none', '-p', '8080:80', PROBE, '/probe', 'id']);
  assert.is(r.code, 125, show(r));
  assert.match(r.stderr, /^Error: cannot publish ports with --network none\n$/);
});

test.run();
