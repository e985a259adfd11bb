// The client against small in-process HTTP servers that misbehave on purpose: resumption, restarts,
// redirects, retries, oversized and corrupt content, token caching. (The real registries are
// exercised in test/e2e/registry-*.test.ts.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { openBlob, resolveImage, resetRegistryState, closeAllAgents, MediaTypes as M, Descriptor } from '../../core/registry';
import { parseReference } from '../../core/reference';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

interface Fake {
  port: number;
  host: string;
  requests: { method: string; url: string; headers: http.IncomingHttpHeaders }[];
  close(): Promise<void>;
}

async function fake(handler: Handler): Promise<Fake> {
  const requests: Fake['requests'] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    handler(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    host: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-transfer-'));
const env: NodeJS.ProcessEnv = { HOME: home, XDG_RUNTIME_DIR: home, CONTAINERS_REGISTRIES_CONF: path.join(home, 'none.conf') };
const opts = { tlsVerify: false, env };

const sha = (b: Buffer) => 'sha256:' + crypto.createHash('sha256').update(b).digest('hex');
const blob = crypto.randomBytes(300 * 1024);
const desc: Descriptor = { mediaType: M.ociLayerGzip, digest: sha(blob), size: blob.length };

async function collect(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Answers /v2/ with 200 and hands blob requests to `blobs`. */
function registry(blobs: Handler, other?: Handler): Handler {
  return (req, res) => {
    if (req.url === '/v2/') return void res.end('{}');
    if (req.url?.startsWith('/v2/repo/blobs/')) return blobs(req, res);
    if (other) return other(req, res);
    res.statusCode = 404;
    res.end();
  };
}

const ref = (f: Fake) => parseReference(`${f.host}/repo`);

test.before.each(() => resetRegistryState());
test.after(() => {
  closeAllAgents();
  fs.rmSync(home, { recursive: true, force: true });
});

test('a reset mid-blob resumes with Range and 206; progress is cumulative', async () => {
  let n = 0;
  const f = await fake(registry((req, res) => {
    n++;
    const range = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''));
    if (!range) {
      res.writeHead(200, { 'Content-Length': blob.length });
      res.write(blob.subarray(0, 100_000), () => setTimeout(() => res.socket?.resetAndDestroy(), 20));
      return;
    }
    const start = Number(range[1]);
    res.writeHead(206, { 'Content-Length': blob.length - start, 'Content-Range': `bytes ${start}-${blob.length - 1}/${blob.length}` });
    res.end(blob.subarray(start));
  }));
  try {
    const progress: number[] = [];
    const got = await collect(await openBlob(ref(f), desc, { ...opts, onProgress: (b) => progress.push(b) }));
    assert.ok(got.equals(blob));
    assert.is(n, 2);
    const ranged = f.requests.filter((r) => r.headers.range);
    assert.is(ranged.length, 1);
    assert.match(String(ranged[0].headers.range), /^bytes=\d+-$/);
    assert.ok(Number(/\d+/.exec(String(ranged[0].headers.range))![0]) >= 1);
    assert.is(progress[progress.length - 1], blob.length);
    assert.ok(progress.every((v, i) => i === 0 || v > progress[i - 1]));
  } finally {
    await f.close();
  }
});

test('a registry that answers a resumption with 200 sends from zero: nothing is delivered twice', async () => {
  let n = 0;
  const f = await fake(registry((_req, res) => {
    n++;
    res.writeHead(200, { 'Content-Length': blob.length });
    if (n === 1) res.write(blob.subarray(0, 120_000), () => setTimeout(() => res.socket?.resetAndDestroy(), 20));
    else res.end(blob);
  }));
  try {
    const got = await collect(await openBlob(ref(f), desc, opts));
    assert.is(got.length, blob.length);
    assert.ok(got.equals(blob));
    assert.is(n, 2);
  } finally {
    await f.close();
  }
});

test('a restart that sends different leading bytes is refused', async () => {
  let n = 0;
  const other = Buffer.from(blob);
  other[5] ^= 0xff;
  const f = await fake(registry((_req, res) => {
    n++;
    res.writeHead(200, { 'Content-Length': blob.length });
    if (n === 1) res.write(blob.subarray(0, 120_000), () => setTimeout(() => res.socket?.resetAndDestroy(), 20));
    else res.end(other);
  }));
  try {
    const s = await openBlob(ref(f), desc, opts);
    await collect(s).then(
      () => assert.unreachable('should fail'),
      (e: Error) => assert.match(e.message, /sent different content when the download was restarted/),
    );
  } finally {
    await f.close();
  }
});

test('content that does not match the digest errors at the end, naming both digests', async () => {
  const bad = Buffer.from(blob);
  bad[bad.length - 1] ^= 1;
  const f = await fake(registry((_req, res) => res.end(bad)));
  try {
    const s = await openBlob(ref(f), desc, opts);
    let delivered = 0;
    s.on('data', (c: Buffer) => (delivered += c.length));
    await new Promise<void>((resolve) => s.on('error', (e) => {
      assert.is(e.message, `reading blob ${desc.digest} in ${f.host}/repo: digest mismatch: expected ${desc.digest}, got ${sha(bad)}`);
      resolve();
    }));
    assert.is(delivered, blob.length);
  } finally {
    await f.close();
  }
});

test('a blob longer than its descriptor is refused early: by Content-Length, or as it streams', async () => {
  const f = await fake(registry((_req, res) => res.end(Buffer.concat([blob, Buffer.alloc(10)]))));
  try {
    await openBlob(ref(f), desc, opts).then(
      () => assert.unreachable(),
      (e: Error) => assert.match(e.message, new RegExp(`sends ${blob.length + 10} bytes, more than the ${blob.length} the manifest declares`)),
    );
  } finally {
    await f.close();
  }
  let written = 0;
  const g = await fake(registry((_req, res) => {
    // Chunked, no Content-Length, and endless.
    const more = () => {
      while (written < 10 * blob.length && res.write(crypto.randomBytes(16384))) written += 16384;
      if (written < 10 * blob.length) res.once('drain', more);
      else res.end();
    };
    more();
  }));
  try {
    const s = await openBlob(ref(g), desc, opts);
    await collect(s).then(
      () => assert.unreachable(),
      (e: Error) => assert.match(e.message, /the registry sends more than the \d+ bytes the manifest declares/),
    );
    assert.ok(written < 10 * blob.length, 'stopped reading early');
  } finally {
    await g.close();
  }
});

test('503s are retried with backoff; a lasting one is reported after 3 attempts', async () => {
  let n = 0;
  const f = await fake(registry((_req, res) => {
    n++;
    if (n < 3) {
      res.statusCode = 503;
      return void res.end();
    }
    res.end(blob);
  }));
  try {
    assert.ok((await collect(await openBlob(ref(f), desc, opts))).equals(blob));
    assert.is(n, 3);
  } finally {
    await f.close();
  }
  let m = 0;
  const g = await fake(registry((_req, res) => {
    m++;
    res.statusCode = 503;
    res.end();
  }));
  try {
    await openBlob(ref(g), desc, opts).then(
      () => assert.unreachable(),
      (e: Error) => assert.is(e.message, `reading blob ${desc.digest} in ${g.host}/repo: received unexpected HTTP status: 503 Service Unavailable`),
    );
    assert.is(m, 3);
  } finally {
    await g.close();
  }
});

test('a missing blob: the registry error, one attempt', async () => {
  const f = await fake(registry((_req, res) => {
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry', detail: desc.digest }] }));
  }));
  try {
    await openBlob(ref(f), desc, opts).then(
      () => assert.unreachable(),
      (e: Error & { exitCode?: number }) => {
        assert.is(e.message, `reading blob ${desc.digest} in ${f.host}/repo: blob unknown: blob unknown to registry`);
        assert.is(e.exitCode, 125);
      },
    );
    assert.is(f.requests.filter((r) => r.url.includes('/blobs/')).length, 1);
  } finally {
    await f.close();
  }
});

test('redirects are followed; credentials stay with the registry', async () => {
  const cdn = await fake((_req, res) => res.end(blob));
  const f = await fake((req, res) => {
    if (req.url === '/v2/') {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test"' });
      return void res.end();
    }
    if (req.headers.authorization !== 'Basic ' + Buffer.from('u:p').toString('base64')) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test"' });
      return void res.end();
    }
    res.writeHead(307, { Location: `http://${cdn.host}/storage/blob?sig=1` });
    res.end();
  });
  try {
    const got = await collect(await openBlob(ref(f), desc, { ...opts, credentials: { username: 'u', password: 'p' } }));
    assert.ok(got.equals(blob));
    assert.is(cdn.requests.length, 1);
    assert.is(cdn.requests[0].url, '/storage/blob?sig=1');
    assert.is(cdn.requests[0].headers.authorization, undefined);
    assert.ok(f.requests.some((r) => r.url.includes('/blobs/') && r.headers.authorization));
  } finally {
    await f.close();
    await cdn.close();
  }
});

test('foreign layers come from their urls when the registry lacks them', async () => {
  const src = await fake((_req, res) => res.end(blob));
  const f = await fake(registry((_req, res) => {
    res.statusCode = 404;
    res.end();
  }));
  try {
    const got = await collect(await openBlob(ref(f), { ...desc, urls: [`http://${src.host}/layer.tar.gz`] }, opts));
    assert.ok(got.equals(blob));
  } finally {
    await f.close();
    await src.close();
  }
});

/** A token-authenticated registry; `tokens` counts what the token endpoint issued per scope. */
async function tokenRegistry(manifestFor: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
  const tokens: string[] = [];
  let expireNext = false;
  const f: Fake = await fake((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/token') {
      tokens.push(url.searchParams.getAll('scope').join(' '));
      return void res.end(JSON.stringify({ token: `t${tokens.length}`, expires_in: 300 }));
    }
    const challenge = `Bearer realm="http://${f.host}/token",service="fake"`;
    const auth = req.headers.authorization;
    if (!auth) {
      res.writeHead(401, { 'WWW-Authenticate': challenge });
      return void res.end();
    }
    if (expireNext) {
      expireNext = false;
      res.writeHead(401, { 'WWW-Authenticate': `${challenge},error="invalid_token"` });
      return void res.end();
    }
    if (url.pathname === '/v2/') return void res.end('{}');
    if (url.pathname.includes('/blobs/')) return void res.end(blob);
    manifestFor(req, res);
  });
  return { f, tokens, expire: () => (expireNext = true) };
}

test('bearer tokens: one per scope for the process, renewed when the registry says it is invalid', async () => {
  const { f, tokens, expire } = await tokenRegistry(() => undefined);
  try {
    await collect(await openBlob(ref(f), desc, opts));
    await collect(await openBlob(ref(f), desc, opts));
    await collect(await openBlob(parseReference(`${f.host}/other`), desc, opts));
    assert.equal(tokens, ['repository:repo:pull', 'repository:other:pull']);
    expire();
    await collect(await openBlob(ref(f), desc, opts));
    assert.equal(tokens, ['repository:repo:pull', 'repository:other:pull', 'repository:repo:pull']);
  } finally {
    await f.close();
  }
});

// ---- manifests ----

const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
const imageManifest = (mediaType: string = M.ociManifest) =>
  Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, config: { mediaType: mediaType === M.ociManifest ? M.ociConfig : M.dockerConfig, digest: sha(config), size: config.length }, layers: [desc] }));

function serveManifests(table: Record<string, { body: Buffer; type?: string; digestHeader?: string }>): Handler {
  return registry(
    (req, res) => res.end(req.url?.endsWith(sha(config)) ? config : blob),
    (req, res) => {
      const ref = decodeURIComponent((req.url ?? '').replace(/^\/v2\/repo\/manifests\//, ''));
      const m = table[ref];
      if (!m) {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        return void res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
      }
      const headers: Record<string, string> = { 'Content-Type': m.type ?? 'application/json' };
      if (m.digestHeader) headers['Docker-Content-Digest'] = m.digestHeader;
      res.writeHead(200, headers);
      res.end(m.body);
    },
  );
}

test('resolve by tag: Docker-Content-Digest is checked against the content', async () => {
  const body = imageManifest();
  const f = await fake(serveManifests({
    good: { body, digestHeader: sha(body) },
    lying: { body, digestHeader: 'sha256:' + '0'.repeat(64) },
  }));
  try {
    const r = await resolveImage(parseReference(`${f.host}/repo:good`), { os: 'linux', architecture: 'amd64' }, opts);
    assert.is(r.manifestDigest, sha(body));
    assert.is(r.manifestMediaType, M.ociManifest);
    assert.ok(r.config.equals(config));
    assert.equal(r.layers, [desc]);
    await resolveImage(parseReference(`${f.host}/repo:lying`), { os: 'linux', architecture: 'amd64' }, opts).then(
      () => assert.unreachable(),
      (e: Error) => assert.is(e.message, `initializing source docker://${f.host}/repo:lying: reading manifest lying in ${f.host}/repo: manifest digest mismatch: the registry says sha256:${'0'.repeat(64)}, the content has ${sha(body)}`),
    );
  } finally {
    await f.close();
  }
});

test('resolve by digest: content not matching the digest is refused', async () => {
  const body = imageManifest();
  const wanted = 'sha256:' + '1'.repeat(64);
  const f = await fake(serveManifests({ [wanted]: { body } }));
  try {
    await resolveImage(parseReference(`${f.host}/repo@${wanted}`), { os: 'linux', architecture: 'amd64' }, opts).then(
      () => assert.unreachable(),
      (e: Error) => assert.match(e.message, new RegExp(`reading manifest ${wanted} in ${f.host}/repo: manifest digest mismatch: got ${sha(body)}$`)),
    );
  } finally {
    await f.close();
  }
});

test('schema 1 is refused with a clear message', async () => {
  const body = Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'repo', tag: 'old', fsLayers: [], signatures: [] }));
  const f = await fake(serveManifests({ old: { body, type: M.dockerSchema1Signed } }));
  try {
    await resolveImage(parseReference(`${f.host}/repo:old`), { os: 'linux', architecture: 'amd64' }, opts).then(
      () => assert.unreachable(),
      (e: Error) => assert.match(e.message, /reading manifest old in .*: unsupported manifest type application\/vnd\.docker\.distribution\.manifest\.v1\+prettyjws: Docker schema 1 images are not supported/),
    );
  } finally {
    await f.close();
  }
});

test('an index entry whose manifest has another size than declared is refused', async () => {
  const body = imageManifest(M.dockerManifest);
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: M.dockerList, manifests: [{ mediaType: M.dockerManifest, digest: sha(body), size: body.length + 1, platform: { os: 'linux', architecture: 'amd64' } }] }));
  const f = await fake(serveManifests({ list: { body: index }, [sha(body)]: { body } }));
  try {
    await resolveImage(parseReference(`${f.host}/repo:list`), { os: 'linux', architecture: 'amd64' }, opts).then(
      () => assert.unreachable(),
      (e: Error) => assert.match(e.message, /^choosing an image from manifest list docker:\/\/.*: manifest sha256:\w+ has \d+ bytes, the list declares \d+$/),
    );
  } finally {
    await f.close();
  }
});

test('a manifest larger than 4 MiB is refused', async () => {
  const f = await fake(serveManifests({ huge: { body: Buffer.alloc(5 << 20, 0x20) } }));
  try {
    await resolveImage(parseReference(`${f.host}/repo:huge`), { os: 'linux', architecture: 'amd64' }, opts).then(
      () => assert.unreachable(),
      (e: Error) => assert.match(e.message, /manifest is larger than the limit of 4194304 bytes/),
    );
  } finally {
    await f.close();
  }
});

test.run();
