// Hostile images (test/setup/hostile): each crafted layer is refused with a clear error or kept
// inside its layer directory; nothing outside the store's own layer and record files changes:
// not the user's home, not the store's other directories, not a canary directory next to the
// store, not /tmp, /etc or /. Corrupt blobs and wrong diff_ids are refused and leave nothing.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  describeDiff,
  diffSnapshots,
  fixtures,
  freshStore,
  HostileName,
  ImageFact,
  REGISTRY,
  removeStore,
  RunResult,
  snapshotTree,
  SnapshotDiff,
  TEST_USER,
  tspod,
  userInfo,
} from '../lib';
import { assertOneLineError, layerDir, show, storedImages, storedLayers, tmpEntries } from './image-helpers';

const hex = (d: string) => d.replace(/^sha256:/, '');

// Other suites and tools may use the same account meanwhile: their stores (this suite's store and
// canary are compared on their own), the helper extracted by a rebuilt tspod, podman's and the
// default tspod store, benchmarks. Changes there are theirs, not an escape.
const HOME_NOISE = [
  /^stores\/[^/]+(\/|$)/,
  /^\.cache\/tspod\/helper-[^/]+(\/|$)/,
  /^bench(\/|$)/,
  /^\.local\/share\/(containers|tspod)(\/|$)/,
  /^\.config\/(cni|containers\/(containers|storage)\.conf)(\/|$)/,
];

function homeDiff(d: SnapshotDiff): string {
  const keep = (p: string) => !HOME_NOISE.some((re) => re.test(p));
  return describeDiff({
    added: d.added.filter(keep),
    removed: d.removed.filter(keep),
    changed: d.changed.filter((c) => keep(c.path) && !(c.path === 'stores' && c.fields.every((f) => f === 'mtimeMs' || f === 'nlink' || f === 'size'))),
  });
}

/** Names an escape would leave in the host's shared places. */
function escapesOnHost(): string[] {
  const out: string[] = [];
  for (const dir of ['/', '/tmp', '/etc', '/var/tmp']) {
    for (const n of fs.readdirSync(dir)) if (n.startsWith('tspod-escape')) out.push(path.join(dir, n));
  }
  return out;
}

function fileFacts(file: string) {
  const st = fs.lstatSync(file);
  return { ino: st.ino, nlink: st.nlink, size: st.size, mtimeMs: st.mtimeMs, mode: st.mode, sha: crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex') };
}

// ---------------------------------------------------------------------------------------------
const hostile = suite('hostile layers are refused or contained');
let store = '';
let canary = '';
const home = () => userInfo(TEST_USER).home;

hostile.before(async () => {
  store = await freshStore(TEST_USER);
  canary = await freshStore(TEST_USER);
  const me = userInfo(TEST_USER);
  for (const [rel, content] of [['file.txt', 'canary\n'], ['tmp/x', 'x\n'], ['etc/passwd', 'root:x:0:0::/root:/bin/sh\n']]) {
    const p = path.join(canary, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
  fs.symlinkSync('/tmp', path.join(canary, 'tmp-link'));
  for (const p of ['file.txt', 'tmp', 'tmp/x', 'etc', 'etc/passwd', 'tmp-link']) fs.lchownSync(path.join(canary, p), me.uid, me.gid);
  // A store in use: an image already there, whose layer must stay as it is.
  const r = await tspod(TEST_USER, ['pull', '-q', `${REGISTRY}/busybox`], { store });
  assert.is(r.code, 0, show(r));
});

hostile.after(() => {
  if (store) removeStore(store);
  if (canary) removeStore(canary);
});

interface Before {
  home: ReturnType<typeof snapshotTree>;
  store: ReturnType<typeof snapshotTree>;
  canary: ReturnType<typeof snapshotTree>;
  passwd: ReturnType<typeof fileFacts>;
  host: string[];
  images: string;
}

function takeSnapshots(): Before {
  return {
    home: snapshotTree(home(), { exclude: (rel) => HOME_NOISE.some((re) => re.test(rel)) }),
    store: snapshotTree(store),
    canary: snapshotTree(canary),
    passwd: fileFacts('/etc/passwd'),
    host: escapesOnHost(),
    images: fs.readFileSync(path.join(store, 'images.json'), 'utf8'),
  };
}

/**
 * What may change in the store during a pull of `image`: lock files, the directories' mtimes, and
 * when the pull succeeded its own layers, blobs and the image list. Anything else is a violation.
 */
function storeViolations(d: SnapshotDiff, image: ImageFact, stored: boolean): string[] {
  const own = new Set(image.diffIds.map(hex));
  const blobs = new Set([hex(image.configDigest), hex(image.manifestDigest)]);
  const allowedAdd = (p: string) => {
    if (/^locks\/layer-[0-9a-f]{64}\.lock$/.test(p) || p === 'storage.lock') return true;
    const m = /^layers\/([0-9a-f]{64})(\/|$)/.exec(p);
    if (m) return own.has(m[1]);
    const b = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(p);
    return stored && !!b && blobs.has(b[1]);
  };
  const dirs = new Set(['.', 'tmp', 'locks', 'layers', 'blobs/sha256']);
  const out: string[] = [];
  for (const p of d.added) if (!allowedAdd(p)) out.push(`added ${p}`);
  for (const p of d.removed) out.push(`removed ${p}`);
  for (const c of d.changed) {
    if (dirs.has(c.path) && c.fields.every((f) => f === 'mtimeMs' || f === 'nlink' || f === 'size')) continue;
    if (stored && c.path === 'images.json') continue;
    out.push(`changed ${c.path} (${c.fields.join(', ')})`);
  }
  return out;
}

function assertNothingEscaped(before: Before, image: ImageFact, r: RunResult): void {
  const after = takeSnapshots();
  const stored = r.code === 0;
  assert.is(homeDiff(diffSnapshots(before.home, after.home)), '', `the user's home is unchanged\n${show(r)}`);
  assert.is(describeDiff(diffSnapshots(before.canary, after.canary)), '', 'the canary next to the store is unchanged');
  assert.equal(storeViolations(diffSnapshots(before.store, after.store), image, stored), [], 'the store changed only where a pull may');
  assert.equal(after.passwd, before.passwd, '/etc/passwd is untouched (no link, no write)');
  assert.equal(after.host, before.host, 'no tspod-escape-* in /, /tmp, /etc, /var/tmp');
  // Every payload file that exists anywhere in the store sits inside one of this image's layers.
  for (const [p, facts] of after.store) {
    if (!path.basename(p).startsWith('tspod-escape') || before.store.has(p)) continue;
    const m = /^layers\/([0-9a-f]{64})\/diff\//.exec(p);
    assert.ok(m && image.diffIds.map(hex).includes(m[1]), `${p} (${facts.type}) is inside the image's layer`);
  }
  assert.equal(tmpEntries(store), [], 'tmp/ is empty after the pull');
}

const CASES: HostileName[] = ['dotdot', 'absolute', 'symlink-escape', 'hardlink-escape', 'root-not-dir'];

for (const name of CASES) {
  hostile(`${name}: refused or contained, nothing outside the layer changes`, async () => {
    const image = fixtures().images[`hostile/${name}`];
    const before = takeSnapshots();
    const r = await tspod(TEST_USER, ['pull', `${REGISTRY}/hostile/${name}`], { store });
    assert.not.ok(r.timedOut, show(r));
    if (r.code === 0) {
      assert.is(r.stdout, `${image.imageId}\n`);
      assert.ok(storedImages(store).some((i) => i.id === image.imageId), 'a contained image is recorded');
      for (const d of image.diffIds) assert.ok(fs.existsSync(path.join(layerDir(store, d), 'layer.json')), `layer ${d} stored`);
    } else {
      const line = assertOneLineError(r, /layer sha256:[0-9a-f]{64}: /);
      assert.match(line, /entry|link|outside|root|parent/, 'names what was wrong with the layer');
      assert.is(fs.readFileSync(path.join(store, 'images.json'), 'utf8'), before.images, 'no image record');
      assert.is(r.stdout, '');
    }
    assertNothingEscaped(before, image, r);
  });
}

hostile('the cases behave as designed: ../ and hardlinks out are refused, absolute names stay inside', async () => {
  // The generic tests above accept either outcome; these are the outcomes the unpacker promises.
  const ids = new Set(storedImages(store).map((i) => i.id));
  const f = fixtures().images;
  assert.not.ok(ids.has(f['hostile/dotdot'].imageId), 'dotdot refused');
  assert.not.ok(ids.has(f['hostile/hardlink-escape'].imageId), 'hardlink-escape refused');
  assert.not.ok(ids.has(f['hostile/root-not-dir'].imageId), 'root-not-dir refused');
  const abs = f['hostile/absolute'];
  assert.ok(ids.has(abs.imageId), 'absolute names are kept, inside the layer');
  const diff = path.join(layerDir(store, abs.diffIds[0]), 'diff');
  assert.is(fs.readFileSync(path.join(diff, 'tmp', 'tspod-escape-absolute'), 'utf8').length, abs.layers[0].entries!.find((e) => e.name === '/tmp/tspod-escape-absolute')!.size);
  assert.ok(fs.existsSync(path.join(diff, 'tmp', 'tspod-escape-absolute2')));
  assert.ok(fs.existsSync(path.join(diff, 'tspod-escape-absolute-dir', 'file')));
  // busybox, pulled before all this, is intact.
  const bb = f.busybox;
  assert.ok(ids.has(bb.imageId));
  assert.ok(storedLayers(store).includes(bb.diffIds[0]));
});

// ---------------------------------------------------------------------------------------------
const integrity = suite('corrupt blobs and wrong diff_ids are refused and leave nothing');

for (const [name, pattern] of [
  ['bad-digest', /digest mismatch|does not match/],
  ['bad-diffid', /diff_id/],
] as const) {
  integrity(`${name}: exit 125, one clear line, no layer, no record, tmp/ empty`, async () => {
    const image = fixtures().images[`hostile/${name}`];
    const s = await freshStore(TEST_USER);
    try {
      const r = await tspod(TEST_USER, ['pull', `${REGISTRY}/hostile/${name}`], { store: s });
      const line = assertOneLineError(r, pattern);
      assert.ok(line.includes(image.layers[0].digest), `names the layer: ${line}`);
      if (name === 'bad-digest') assert.ok(line.includes(image.corrupt!.servedSha256), `says what arrived: ${line}`);
      else assert.ok(line.includes(image.diffIds[0]), `names the expected diff_id: ${line}`);
      assert.is(r.stdout, '');
      assert.equal(storedImages(s), []);
      assert.equal(storedLayers(s), []);
      assert.not.ok(fs.existsSync(layerDir(s, image.diffIds[0])));
      assert.equal(tmpEntries(s), []);
      assert.not.ok(fs.existsSync(path.join(s, 'blobs', 'sha256', hex(image.configDigest))), 'no config kept');
      const list = await tspod(TEST_USER, ['images', '-q'], { store: s });
      assert.is(list.stdout, '');
    } finally {
      removeStore(s);
    }
  });
}

hostile.run();
integrity.run();
