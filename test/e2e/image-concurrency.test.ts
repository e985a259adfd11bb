// Several tspod processes at once on one store, and a tspod killed in the middle of a pull.
// No daemon serialises them: the store's locks must. A throttling TCP proxy in front of the real
// registry holds a layer download open, so the kill lands while the layer's bytes are flowing.

import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fixtures, REGISTRY, RunResult, TEST_USER, TSPOD_BIN, userEnv, userInfo, withStore } from '../lib';
import { layerDiff, layerDir, lines, show, storedImages, storedLayers, tmpEntries } from './image-helpers';

const F = () => fixtures().images;
const fetchedLines = (r: RunResult) => lines(r.stderr).filter((l) => l.startsWith('Copying blob ') && !l.endsWith('skipped: already exists'));

// ---------------------------------------------------------------------------------------------
const together = suite('concurrent pulls into one store');

together('4 pulls of one image at once: all succeed, each layer fetched once, one record', async () => {
  const ly = F().layered;
  await withStore(TEST_USER, async (run, store) => {
    const results = await Promise.all([1, 2, 3, 4].map(() => run(['pull', `${REGISTRY}/layered`])));
    for (const r of results) {
      assert.is(r.code, 0, show(r));
      assert.is(r.stdout, `${ly.imageId}\n`);
    }
    // Across the four processes, every layer was unpacked by exactly one; the others waited and skipped it.
    const fetched = results.flatMap(fetchedLines).map((l) => l.slice('Copying blob '.length)).sort();
    assert.equal(fetched, ly.layers.map((l) => l.digest).sort(), 'each layer fetched exactly once');
    const images = storedImages(store);
    assert.is(images.length, 1);
    assert.equal(images[0].names, [`${REGISTRY}/layered:latest`]);
    assert.equal(storedLayers(store), [...ly.diffIds].sort());
    for (const d of ly.diffIds) assert.ok(fs.existsSync(path.join(layerDir(store, d), 'layer.json')));
    assert.equal(tmpEntries(store), []);
    const list = await run(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
    assert.is(list.stdout, `${REGISTRY}/layered:latest ${ly.imageId.slice(0, 12)}\n`);
  });
});

together('4 different images sharing a layer at once: the shared layer is fetched once', async () => {
  const f = F();
  await withStore(TEST_USER, async (run, store) => {
    const refs = ['busybox', 'layered', 'zstd', 'multiarch'].map((n) => `${REGISTRY}/${n}`);
    const results = await Promise.all(refs.map((ref) => run(['pull', ref])));
    for (const r of results) assert.is(r.code, 0, show(r));
    // busybox, layered's base, zstd and multiarch's base are one diff_id, under several blob digests.
    const shared = f.busybox.diffIds[0];
    const all = [f.busybox, f.layered, f.zstd, ...f.multiarch.manifests];
    const sharedBlobs = new Set(all.flatMap((m) => m.layers.filter((l) => l.diffId === shared).map((l) => l.digest)));
    const fetchedShared = results.flatMap(fetchedLines).filter((l) => sharedBlobs.has(l.slice('Copying blob '.length)));
    assert.is(fetchedShared.length, 1, `the busybox layer was unpacked once:\n${fetchedShared.join('\n')}`);
    assert.ok(storedLayers(store).includes(shared));
    const host = f.multiarch.manifests.find((m) => m.architecture === (process.arch === 'arm64' ? 'arm64' : 'amd64'))!;
    const ids = new Set(storedImages(store).map((i) => i.id));
    assert.equal([...ids].sort(), [f.busybox.imageId, f.layered.imageId, host.imageId].sort(), 'zstd is the busybox image');
    assert.equal(tmpEntries(store), []);
  });
});

// ---------------------------------------------------------------------------------------------
// A proxy to the real registry that passes everything through, except that a response to a GET
// of one blob stops after `limit` bytes and hangs there; `stalled` resolves when it does.

interface Throttle {
  port: number;
  stalled: Promise<void>;
  close(): void;
}

function throttlingProxy(blob: string, limit: number): Promise<Throttle> {
  let onStall!: () => void;
  const stalled = new Promise<void>((r) => (onStall = r));
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(5000, '127.0.0.1');
    sockets.add(client).add(upstream);
    let isBlob = false;
    let sent = 0;
    client.on('data', (d: Buffer) => {
      if (d.toString('latin1').includes(`/blobs/${blob}`)) isBlob = true;
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (!isBlob) return void client.write(d);
      const room = limit - sent;
      if (room <= 0) return;
      client.write(d.subarray(0, room));
      sent += Math.min(room, d.length);
      if (sent >= limit) {
        upstream.pause();
        onStall();
      }
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        stalled,
        close: () => {
          for (const s of sockets) s.destroy();
          server.close();
        },
      });
    });
  });
}

/** tspod as the user, as a child we can signal (runAs waits for the end). */
function spawnTspod(user: string, args: string[]): { child: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> } {
  const info = userInfo(user);
  const child = spawn('/usr/bin/setpriv', ['--reuid', String(info.uid), '--regid', String(info.gid), '--init-groups', '--', TSPOD_BIN, ...args], {
    env: userEnv(info),
    cwd: info.home,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, exited };
}

function timeout(ms: number, what: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms).unref());
}

/** Processes whose command line mentions `needle` (the store path is unique to this test). */
function processesMentioning(needle: string): string[] {
  const out: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const state = /^State:\s+(\S)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      if (cmd.includes(needle) && state !== 'Z') out.push(`${pid} ${cmd.replace(/\0/g, ' ')}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  for (const t0 = Date.now(); Date.now() - t0 < ms; ) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

const killed = suite('SIGKILL in the middle of a pull');

killed('no partial image is listed, the next pull succeeds and removes the leftovers', async () => {
  const bb = F().busybox;
  const layer = bb.layers[0];
  const proxy = await throttlingProxy(layer.digest, 64 * 1024);
  assert.ok(layer.size > 256 * 1024, 'the layer is big enough to be cut in the middle');
  try {
    await withStore(TEST_USER, async (run, store) => {
      const ref = `localhost:${proxy.port}/busybox`;
      const { child, exited } = spawnTspod(TEST_USER, ['--root', store, 'pull', '--tls-verify=false', ref]);
      try {
        await Promise.race([proxy.stalled, exited.then((e) => Promise.reject(new Error(`tspod ended first: ${JSON.stringify(e)}`))), timeout(60_000, 'the layer download to start')]);
        // The first 64 KiB of the layer went through; the unpacker is working in tmp/.
        const staging = tmpEntries(store);
        assert.is(staging.length, 1, `one staging directory: ${staging}`);
        assert.match(staging[0], new RegExp(`^${child.pid}-`));
        process.kill(child.pid!, 'SIGKILL');
        const end = await Promise.race([exited, timeout(20_000, 'tspod to die')]);
        assert.is(end.signal, 'SIGKILL');
      } finally {
        try {
          process.kill(child.pid!, 'SIGKILL');
        } catch {
          // already dead
        }
      }
      proxy.close();
      // The helpers it started notice and go away on their own (no lock is left held).
      assert.ok(await until(() => processesMentioning(store).length === 0, 10_000), `left running:\n${processesMentioning(store).join('\n')}`);

      const list = await run(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
      assert.is(list.code, 0, show(list));
      assert.is(list.stdout, '', 'no partial image');
      assert.equal(storedImages(store), []);
      assert.not.ok(fs.existsSync(path.join(layerDir(store, bb.diffIds[0]), 'layer.json')), 'no half layer in layers/');
      const left = tmpEntries(store);
      assert.is(left.length, 1, 'the killed pull left its staging directory');

      const again = await run(['pull', `${REGISTRY}/busybox`]);
      assert.is(again.code, 0, show(again));
      assert.is(again.stdout, `${bb.imageId}\n`);
      assert.match(again.stderr, `Copying blob ${layer.digest}\n`, 'fetched in full this time');
      assert.ok(await until(() => tmpEntries(store).length === 0, 10_000), `leftovers removed: ${tmpEntries(store)}`);
      const busybox = fs.statSync(path.join(layerDiff(store, bb.diffIds[0]), 'bin', 'busybox'));
      assert.is(busybox.size, bb.files!.find((x) => x.path === '/bin/busybox')!.size);
      const list2 = await run(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
      assert.is(list2.stdout, `${REGISTRY}/busybox:latest ${bb.imageId.slice(0, 12)}\n`);
    });
  } finally {
    proxy.close();
  }
});

together.run();
killed.run();
