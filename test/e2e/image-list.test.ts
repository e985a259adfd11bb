// `tspod images`: podman's table and its variants, JSON and templates, filters and sort orders,
// on one store shared by the suite: busybox (also tagged mybox:dev), layered, a dangling image
// (multiarch's host image after the name moved to arm64), and an image of this suite's own with
// another creation date and a label (pushed to the plain registry with skopeo).

import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fixtures, freshStore, getManifest, REGISTRY, removeStore, RunResult, tarOfFiles, TEST_USER, tspod, WORK_DIR } from '../lib';
import { assertOneLineError, hostArch, lines, show, shortId } from './image-helpers';

const sha = (b: Buffer | string) => 'sha256:' + crypto.createHash('sha256').update(b).digest('hex');
const F = () => fixtures().images;

// ---------------------------------------------------------------------------------------------
// The dated image: one small layer, created 2025-06-01, labelled. Deterministic bytes, so the
// push is skipped when the registry already has it.

const DATED_REPO = 'tspod-e2e/dated';
const DATED_CREATED = '2025-06-01T00:00:00Z';

interface Dated {
  ref: string;
  imageId: string;
  manifestDigest: string;
}

function publishDated(): Dated {
  const tar = tarOfFiles([{ name: 'dated.txt', data: Buffer.from('dated\n'), mtime: Date.parse(DATED_CREATED) / 1000 }]);
  const layer = zlib.gzipSync(tar, { level: 9 });
  const config = Buffer.from(
    JSON.stringify({
      created: DATED_CREATED,
      architecture: hostArch(),
      os: 'linux',
      config: { Cmd: ['cat', '/dated.txt'], Labels: { 'tspod.test.dated': 'yes' } },
      rootfs: { type: 'layers', diff_ids: [sha(tar)] },
      history: [{ created: DATED_CREATED, created_by: 'COPY dated.txt /' }],
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length }],
    }),
  );
  const dated = { ref: `${REGISTRY}/${DATED_REPO}:latest`, imageId: sha(config).slice(7), manifestDigest: sha(manifest) };
  const dir = path.join(WORK_DIR, 'e2e-image-list', 'oci');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const b of [layer, config, manifest]) fs.writeFileSync(path.join(dir, 'blobs', 'sha256', sha(b).slice(7)), b);
  fs.writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  fs.writeFileSync(
    path.join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(manifest), size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }],
    }),
  );
  execFileSync('skopeo', ['--insecure-policy', 'copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', `oci:${dir}:latest`, `docker://${dated.ref}`], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return dated;
}

// ---------------------------------------------------------------------------------------------
const list = suite('images: table, quiet, digests, JSON, templates, filters, sort');
let store = '';
let dated: Dated;
const run = (args: string[]): Promise<RunResult> => tspod(TEST_USER, args, { store });
const ids = () => {
  const f = F();
  const host = f.multiarch.manifests.find((m) => m.architecture === hostArch())!;
  const arm = f.multiarch.manifests.find((m) => m.architecture === 'arm64')!;
  return { busybox: f.busybox.imageId, layered: f.layered.imageId, dated: dated.imageId, dangling: host.imageId, arm: arm.imageId };
};

async function ok(args: string[]): Promise<RunResult> {
  const r = await run(args);
  assert.is(r.code, 0, `tspod ${args.join(' ')}\n${show(r)}`);
  return r;
}

/** `images` output as rows of columns (two or more spaces apart). */
function table(out: string): string[][] {
  return lines(out).map((l) => l.trim().split(/ {2,}/));
}

list.before(async () => {
  dated = publishDated();
  const m = await getManifest(REGISTRY, DATED_REPO, 'latest');
  assert.is(m.headers['docker-content-digest'], dated.manifestDigest, 'the registry serves the pushed image');
  store = await freshStore(TEST_USER);
  for (const args of [
    ['pull', '-q', `${REGISTRY}/busybox`],
    ['pull', '-q', `${REGISTRY}/layered`],
    ['pull', '-q', dated.ref],
    ['pull', '-q', `${REGISTRY}/multiarch`],
    ['pull', '-q', '--platform', 'linux/arm64', `${REGISTRY}/multiarch`],
    ['tag', 'busybox', 'mybox:dev'],
  ]) {
    await ok(args);
  }
});

list.after(() => {
  if (store) removeStore(store);
});

const ROWS = () => {
  const i = ids();
  return [
    [`${REGISTRY}/busybox`, 'latest', i.busybox],
    ['localhost/mybox', 'dev', i.busybox],
    [`${REGISTRY}/layered`, 'latest', i.layered],
    [`${REGISTRY}/${DATED_REPO}`, 'latest', i.dated],
    ['<none>', '<none>', i.dangling],
    [`${REGISTRY}/multiarch`, 'latest', i.arm],
  ];
};

list('the default table: podman columns, one row per name, newest first', async () => {
  const r = await ok(['images']);
  const [head, ...rows] = table(r.stdout);
  assert.equal(head, ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']);
  assert.match(lines(r.stdout)[0], /^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$/);
  assert.equal(
    rows.map((c) => [c[0], c[1], c[2]]).sort(),
    ROWS().map(([repo, tag, id]) => [repo, tag, shortId(id)]).sort(),
  );
  assert.equal(rows[0].slice(0, 3), [`${REGISTRY}/${DATED_REPO}`, 'latest', shortId(dated.imageId)], 'the newest image first');
  const bb = rows.find((c) => c[0] === `${REGISTRY}/busybox`)!;
  assert.match(bb[3], /^\d+ (years?|months?) ago$/);
  assert.is(bb[4], '2.13 MB');
  for (const c of rows) assert.is(c.length, 5, `five columns: ${c.join(' | ')}`);
  // The columns line up: each starts where its heading starts.
  const [headLine, ...rowLines] = lines(r.stdout);
  const at = ['TAG', 'IMAGE ID', 'CREATED', 'SIZE'].map((h) => headLine.indexOf(h));
  for (const l of rowLines) for (const i of at) assert.ok(l[i - 1] === ' ' && l[i] !== ' ', `aligned: "${l}"`);
  assert.is(r.stderr, '');
});

list('-q prints each image ID once; --noheading drops the heading; --no-trunc the full ID', async () => {
  const i = ids();
  const q = await ok(['images', '-q']);
  assert.equal(lines(q.stdout).sort(), Object.values(i).map(shortId).sort());
  assert.is(lines(q.stdout)[0], shortId(i.dated));
  const full = await ok(['images', '-q', '--no-trunc']);
  assert.equal(lines(full.stdout).sort(), Object.values(i).map((x) => `sha256:${x}`).sort());
  const plain = await ok(['images']);
  const nohead = await ok(['images', '--noheading']);
  assert.equal(lines(nohead.stdout), lines(plain.stdout).slice(1));
  const nt = table((await ok(['images', '--no-trunc'])).stdout);
  assert.is(nt[0][2], 'IMAGE ID');
  for (const c of nt.slice(1)) assert.match(c[2], /^sha256:[0-9a-f]{64}$/);
  assert.ok(nt.some((c) => c[2] === `sha256:${i.layered}`));
});

list('--digests adds the DIGEST column with the manifest digest', async () => {
  const r = table((await ok(['images', '--digests'])).stdout);
  assert.equal(r[0], ['REPOSITORY', 'TAG', 'DIGEST', 'IMAGE ID', 'CREATED', 'SIZE']);
  const byRepo = new Map(r.slice(1).map((c) => [c[0], c]));
  assert.is(byRepo.get(`${REGISTRY}/layered`)![2], F().layered.manifestDigest);
  assert.is(byRepo.get(`${REGISTRY}/busybox`)![2], F().busybox.manifestDigest);
  assert.is(byRepo.get(`${REGISTRY}/${DATED_REPO}`)![2], dated.manifestDigest);
});

list('--format json: one entry per image with podman\'s fields', async () => {
  const r = await ok(['images', '--format', 'json']);
  const entries = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
  assert.equal(entries.map((e) => e.Id).sort(), Object.values(ids()).sort());
  const keys = ['Id', 'ParentId', 'RepoTags', 'RepoDigests', 'Size', 'SharedSize', 'VirtualSize', 'Labels', 'Containers', 'Names', 'Digest', 'History', 'Created', 'CreatedAt'];
  for (const e of entries) assert.equal(Object.keys(e).sort(), [...keys].sort());
  const bb = entries.find((e) => e.Id === F().busybox.imageId)!;
  assert.equal(bb.Names, [`${REGISTRY}/busybox:latest`, 'localhost/mybox:dev']);
  assert.equal(bb.RepoDigests, [`localhost/mybox@${F().busybox.manifestDigest}`, `${REGISTRY}/busybox@${F().busybox.manifestDigest}`]);
  assert.equal(bb.History, ['localhost/mybox:dev', `${REGISTRY}/busybox:latest`]);
  assert.is(bb.Digest, F().busybox.manifestDigest);
  assert.is(bb.Created, Date.parse('2024-01-01T00:00:00Z') / 1000);
  assert.is(bb.CreatedAt, '2024-01-01T00:00:00Z');
  assert.is(bb.Labels, null);
  assert.is(bb.Containers, 0);
  assert.is(bb.Size, 2129920, 'the uncompressed layer');
  assert.is(bb.VirtualSize, bb.Size);
  const d = entries.find((e) => e.Id === dated.imageId)!;
  assert.equal(d.Labels, { 'tspod.test.dated': 'yes' });
  assert.is(d.CreatedAt, DATED_CREATED);
  const dangling = entries.find((e) => e.Id === ids().dangling)!;
  assert.is(dangling.Names, null);
  assert.match(r.stdout, /^\[\n {4}\{\n {8}"Id": /, "podman's indentation");
});

list("--format '{{.Repository}}:{{.Tag}} {{.ID}}' and other templates", async () => {
  const r = await ok(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
  assert.equal(lines(r.stdout).sort(), ROWS().map(([repo, tag, id]) => `${repo}:${tag} ${shortId(id)}`).sort());
  const t = await ok(['images', '--format', 'table {{.ID}}\t{{.Size}}', `${REGISTRY}/layered`]);
  assert.equal(table(t.stdout), [['IMAGE ID', 'SIZE'], [shortId(F().layered.imageId), '2.19 MB']]);
  const labels = await ok(['images', '--format', '{{index .Labels "tspod.test.dated"}}|{{.Digest}}', dated.ref]);
  assert.is(labels.stdout, `yes|${dated.manifestDigest}\n`);
  const bad = await run(['images', '--format', '{{.NoSuchField}}']);
  assertOneLineError(bad, /NoSuchField/);
});

list('filters: reference, dangling, label, before, since, id; several at once', async () => {
  const i = ids();
  const names = async (...filters: string[]) =>
    lines((await ok(['images', '--format', '{{.Repository}}:{{.Tag}}', ...filters.flatMap((f) => ['--filter', f])])).stdout).sort();
  assert.equal(await names('reference=busybox'), [`${REGISTRY}/busybox:latest`]);
  assert.equal(await names(`reference=${REGISTRY}/layered:latest`), [`${REGISTRY}/layered:latest`]);
  assert.equal(await names('reference=localhost/mybox'), ['localhost/mybox:dev']);
  assert.equal(await names(`reference=${REGISTRY}/*`), [`${REGISTRY}/busybox:latest`, `${REGISTRY}/layered:latest`, `${REGISTRY}/multiarch:latest`]);
  assert.equal(await names('reference=nosuch'), []);
  assert.equal(await names('dangling=true'), ['<none>:<none>']);
  assert.equal((await names('dangling=false')).length, 5);
  assert.equal(await names('label=tspod.test.dated=yes'), [`${REGISTRY}/${DATED_REPO}:latest`]);
  assert.equal(await names('label=tspod.test.fixture'), [`${REGISTRY}/layered:latest`]);
  assert.equal(await names('label=tspod.test.fixture=nope'), []);
  assert.equal(await names(`since=${REGISTRY}/busybox`), [`${REGISTRY}/${DATED_REPO}:latest`]);
  assert.equal(await names(`before=${dated.ref}`), ROWS().filter((r) => r[2] !== i.dated).map(([repo, tag]) => `${repo}:${tag}`).sort());
  assert.equal(await names(`before=${REGISTRY}/busybox`), []);
  assert.equal(await names(`id=${i.layered.slice(0, 8)}`), [`${REGISTRY}/layered:latest`]);
  assert.equal(await names('dangling=false', 'label=tspod.test.fixture=layered'), [`${REGISTRY}/layered:latest`]);
  assert.equal(await names('reference=busybox', 'reference=layered'), [`${REGISTRY}/busybox:latest`, `${REGISTRY}/layered:latest`], 'reference filters add up');
  assert.equal(lines((await ok(['images', '--format', '{{.ID}}', 'layered'])).stdout), [shortId(i.layered)], 'the IMAGE argument filters too');
  assertOneLineError(await run(['images', '--filter', 'bogus=1']), /bogus/);
  assertOneLineError(await run(['images', '--filter', 'dangling=maybe']), /dangling/);
  assertOneLineError(await run(['images', '--filter', 'since=nosuch']), /nosuch/);
});

list('--sort created, id, repository, size, tag', async () => {
  const col = async (sort: string, field: string) => lines((await ok(['images', '--sort', sort, '--format', `{{.${field}}}`])).stdout);
  const created = await col('created', 'ID');
  assert.is(created[0], shortId(dated.imageId));
  const byId = await col('id', 'ID');
  assert.equal(byId, [...byId].sort());
  // podman compares repository and tag strings byte by byte (`<none>` < `localhost/` < `localhost:`).
  const repos = await col('repository', 'Repository');
  assert.equal(repos, [...repos].sort());
  assert.equal(repos.slice(0, 2), ['<none>', 'localhost/mybox']);
  const tags = await col('tag', 'Tag');
  assert.equal(tags, [...tags].sort());
  const sizes = lines((await ok(['images', '--sort', 'size', '--format', '{{.ID}}'])).stdout);
  const json = JSON.parse((await ok(['images', '--format', 'json'])).stdout) as Array<{ Id: string; Size: number }>;
  const sizeOf = new Map(json.map((e) => [shortId(e.Id), e.Size]));
  const s = sizes.map((id) => sizeOf.get(id)!);
  assert.equal(s, [...s].sort((a, b) => a - b), 'smallest first');
  assertOneLineError(await run(['images', '--sort', 'bogus']), /sort/);
});

list('image ls and image list are images', async () => {
  const a = await ok(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
  const b = await ok(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
  const c = await ok(['image', 'list', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
  assert.is(b.stdout, a.stdout);
  assert.is(c.stdout, a.stdout);
});

list('an empty store lists only the heading', async () => {
  const r = await tspod(TEST_USER, ['images']);
  assert.is(r.code, 0, show(r));
  assert.equal(table(r.stdout), [['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']]);
  assert.is((await tspod(TEST_USER, ['images', '-q'])).stdout, '');
  assert.is((await tspod(TEST_USER, ['images', '--format', 'json'])).stdout.trim(), '[]');
});

list.run();
