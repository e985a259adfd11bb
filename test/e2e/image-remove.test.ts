// Names and removal: `tag`, `untag`, `rmi` (untag, delete, by ID, force, shared layers, files of
// subordinate ids), `image prune`, and `image inspect` against fixtures.json.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decompressLayer, fixtures, getBlob, REGISTRY, RunResult, TEST_USER, userInfo, withStore } from '../lib';
import { assertOneLineError, layerDir, layerDiff, lines, ownedInRange, show, storedImages, storedLayers, tmpEntries } from './image-helpers';

const F = () => fixtures().images;
type Run = (args: string[], opts?: { input?: string }) => Promise<RunResult>;

async function ok(run: Run, args: string[], opts?: { input?: string }): Promise<RunResult> {
  const r = await run(args, opts);
  assert.is(r.code, 0, `tspod ${args.join(' ')}\n${show(r)}`);
  return r;
}

/** Digests of the blobs (configs, manifests, indexes) in the store. */
function blobs(store: string): string[] {
  return fs.readdirSync(path.join(store, 'blobs', 'sha256')).map((h) => `sha256:${h}`).sort();
}

const names = async (run: Run) => lines((await ok(run, ['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'])).stdout).sort();

// ---------------------------------------------------------------------------------------------
const tags = suite('tag, untag, rmi of a name');

tags('tag busybox mybox:dev names it localhost/mybox:dev; rmi mybox:dev untags and keeps the image', async () => {
  const bb = F().busybox;
  const id = bb.imageId.slice(0, 12);
  await withStore(TEST_USER, async (run, store) => {
    await ok(run, ['pull', '-q', `${REGISTRY}/busybox`]);
    const t = await ok(run, ['tag', 'busybox', 'mybox:dev']);
    assert.is(t.stdout, '');
    assert.equal(await names(run), [`${REGISTRY}/busybox:latest ${id}`, `localhost/mybox:dev ${id}`].sort());
    assert.equal(storedImages(store)[0].names, [`${REGISTRY}/busybox:latest`, 'localhost/mybox:dev']);
    const layerIno = fs.statSync(layerDiff(store, bb.diffIds[0])).ino;

    const r = await ok(run, ['rmi', 'mybox:dev']);
    assert.is(r.stdout, 'Untagged: localhost/mybox:dev\n');
    assert.equal(await names(run), [`${REGISTRY}/busybox:latest ${id}`]);
    assert.is(fs.statSync(layerDiff(store, bb.diffIds[0])).ino, layerIno, 'the layer stays');

    // More names, a full name, and image tag = tag; untag removes names but never the image.
    await ok(run, ['image', 'tag', `${REGISTRY}/busybox:latest`, 'a:1', 'quay.io/x/b:2']);
    assert.equal(storedImages(store)[0].names, [`${REGISTRY}/busybox:latest`, 'localhost/a:1', 'quay.io/x/b:2']);
    await ok(run, ['untag', 'busybox', 'a:1']);
    assert.equal(storedImages(store)[0].names, [`${REGISTRY}/busybox:latest`, 'quay.io/x/b:2']);
    await ok(run, ['untag', 'busybox']);
    assert.equal(await names(run), [`<none>:<none> ${id}`], 'untag without names leaves it dangling');
    assert.ok(fs.existsSync(layerDiff(store, bb.diffIds[0])));
    await ok(run, ['tag', id, 'back:again']);
    assert.equal(await names(run), [`localhost/back:again ${id}`], 'an ID still finds it');
  });
});

tags('tag and rmi errors: one line, podman exit codes', async () => {
  await withStore(TEST_USER, async (run) => {
    await ok(run, ['pull', '-q', `${REGISTRY}/busybox`]);
    assertOneLineError(await run(['tag', 'nosuch', 'x:1']), /nosuch: image not known/);
    assertOneLineError(await run(['tag', 'busybox', 'Bad:Name']), /invalid reference format/);
    const rmi = await run(['rmi', 'nosuch']);
    assert.is(rmi.stderr, 'Error: nosuch: image not known\n');
    assertOneLineError(rmi, /^Error: nosuch: image not known$/, 1);
    const ignored = await run(['rmi', '-i', 'nosuch']);
    assert.is(ignored.code, 0, show(ignored));
    assertOneLineError(await run(['rmi']), /image name or ID must be specified/);
    const both = await run(['rmi', 'nosuch', 'busybox']);
    assert.is(both.code, 1, 'the missing one decides the exit code; the other is still removed');
    assert.match(both.stdout, `Untagged: ${REGISTRY}/busybox:latest`);
    assert.equal(await names(run), []);
  });
});

// ---------------------------------------------------------------------------------------------
const removal = suite('rmi deletes images and the layers no other image uses');

removal('rmi by ID with two names refuses without -f; -f removes it', async () => {
  const bb = F().busybox;
  await withStore(TEST_USER, async (run, store) => {
    await ok(run, ['pull', '-q', `${REGISTRY}/busybox`]);
    await ok(run, ['tag', 'busybox', 'mybox:dev']);
    const r = await run(['rmi', bb.imageId.slice(0, 12)]);
    const line = assertOneLineError(r, /by ID with more than one tag/);
    assert.match(line, /please force removal/);
    assert.is(storedImages(store)[0].names.length, 2, 'nothing was removed');
    assert.ok(fs.existsSync(layerDiff(store, bb.diffIds[0])));

    const f = await ok(run, ['rmi', '-f', bb.imageId.slice(0, 12)]);
    assert.equal(lines(f.stdout), [`Untagged: ${REGISTRY}/busybox:latest`, 'Untagged: localhost/mybox:dev', `Deleted: ${bb.imageId}`]);
    assert.equal(storedImages(store), []);
    assert.equal(storedLayers(store), []);
    assert.equal(blobs(store), [], 'its config and manifest are gone too');
    assert.equal(tmpEntries(store), []);
  });
});

removal('rmi layered deletes its own layers (files of subordinate ids included) and keeps the shared one', async () => {
  const bb = F().busybox;
  const ly = F().layered;
  const me = userInfo(TEST_USER);
  const sub = me.subuid[0];
  await withStore(TEST_USER, async (run, store) => {
    await ok(run, ['pull', '-q', `${REGISTRY}/busybox`]);
    await ok(run, ['pull', '-q', `${REGISTRY}/layered`]);
    const shared = layerDiff(store, bb.diffIds[0]);
    const sharedIno = fs.statSync(shared).ino;
    const notes = path.join(layerDiff(store, ly.diffIds[1]), 'home', 'user', 'notes.txt');
    assert.is(fs.lstatSync(notes).uid, sub.start + 999, 'a file of a subordinate uid is there before');

    const r = await ok(run, ['rmi', 'layered']);
    assert.equal(lines(r.stdout), [`Untagged: ${REGISTRY}/layered:latest`, `Deleted: ${ly.imageId}`]);
    for (const d of ly.diffIds.slice(1)) assert.not.ok(fs.existsSync(layerDir(store, d)), `layer ${d} removed`);
    assert.not.ok(fs.existsSync(notes));
    assert.equal(storedLayers(store), [bb.diffIds[0]]);
    assert.is(fs.statSync(shared).ino, sharedIno, 'the shared layer is untouched');
    assert.equal(tmpEntries(store), [], 'nothing left in tmp/');
    // Files of subordinate ids remain only in busybox's own layer (its /home/user).
    const leftovers = ownedInRange(store, sub.start, sub.start + sub.count).filter((p) => !p.startsWith(shared + '/'));
    assert.equal(leftovers, []);
    assert.equal(await names(run), [`${REGISTRY}/busybox:latest ${bb.imageId.slice(0, 12)}`]);
    assert.equal(blobs(store), [bb.configDigest, bb.manifestDigest].sort(), "layered's config and manifest go, busybox's stay");

    // The last image goes, and with it the last layer; `rmi -a` on an empty store is fine.
    await ok(run, ['image', 'rm', 'busybox']);
    assert.equal(storedLayers(store), []);
    assert.equal(ownedInRange(store, sub.start, sub.start + sub.count), []);
    const all = await ok(run, ['rmi', '-a']);
    assert.is(all.stdout, '');
  });
});

removal('image prune removes dangling images and their layers, keeps named ones', async () => {
  const m = F().multiarch;
  const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
  const host = m.manifests.find((x) => x.architecture === arch)!;
  const arm = m.manifests.find((x) => x.architecture === 'arm64')!;
  await withStore(TEST_USER, async (run, store) => {
    await ok(run, ['pull', '-q', `${REGISTRY}/busybox`]);
    await ok(run, ['pull', '-q', `${REGISTRY}/multiarch`]);
    await ok(run, ['pull', '-q', '--platform', 'linux/arm64', `${REGISTRY}/multiarch`]);
    assert.equal(lines((await ok(run, ['images', '-q', '--filter', 'dangling=true'])).stdout), [host.imageId.slice(0, 12)]);

    // As podman: it asks first; no (or no answer at all) removes nothing.
    const no = await ok(run, ['image', 'prune'], { input: 'n\n' });
    assert.is(no.stdout, '');
    assert.is(no.stderr, 'WARNING! This command removes all dangling images.\nAre you sure you want to continue? [y/N] ');
    assert.is(storedImages(store).length, 3, 'answered no: nothing removed');
    const r = await ok(run, ['image', 'prune'], { input: 'y\n' });
    assert.is(r.stdout, `${host.imageId}\n`);
    assert.equal(storedImages(store).map((i) => i.id).sort(), [F().busybox.imageId, arm.imageId].sort());
    const own = host.diffIds.filter((d) => !F().busybox.diffIds.includes(d));
    for (const d of own) assert.not.ok(fs.existsSync(layerDir(store, d)), `layer ${d} of the pruned image removed`);
    assert.ok(fs.existsSync(layerDiff(store, F().busybox.diffIds[0])), 'its layer shared with busybox stays');
    assert.not.ok(blobs(store).includes(host.configDigest), 'the pruned config is gone');
    assert.ok(blobs(store).includes(m.manifestDigest), 'the index stays: the arm64 image came from it too');
    assert.ok(blobs(store).includes(arm.configDigest));
    assert.equal(tmpEntries(store), []);
    const again = await ok(run, ['image', 'prune', '--force']);
    assert.is(again.stdout, '', 'nothing dangling any more');
    assert.is(again.stderr, '', '--force: no question');
  });
});

// ---------------------------------------------------------------------------------------------
const inspect = suite('image inspect');

inspect('layered: the fields against fixtures.json', async () => {
  const ly = F().layered;
  await withStore(TEST_USER, async (run, store) => {
    await ok(run, ['pull', '-q', `${REGISTRY}/layered`]);
    const r = await ok(run, ['image', 'inspect', 'layered']);
    const all = JSON.parse(r.stdout);
    assert.is(all.length, 1);
    const i = all[0];
    assert.is(i.Id, ly.imageId);
    assert.is(i.Digest, ly.manifestDigest);
    assert.equal(i.RepoTags, [`${REGISTRY}/layered:latest`]);
    assert.equal(i.RepoDigests, [`${REGISTRY}/layered@${ly.manifestDigest}`]);
    assert.is(i.Created, '2024-01-01T00:00:00Z');
    assert.is(i.Architecture, ly.architecture);
    assert.is(i.Os, ly.os);
    assert.is(i.Author, ly.author);
    assert.is(i.ManifestType, ly.mediaType);
    const want = ly.config;
    assert.equal(i.Config.Env, want.Env);
    assert.equal(i.Config.Cmd, want.Cmd);
    assert.equal(i.Config.Entrypoint, want.Entrypoint);
    assert.is(i.Config.WorkingDir, want.WorkingDir);
    assert.equal(i.Config.Labels, want.Labels);
    assert.equal(i.Config.ExposedPorts, want.ExposedPorts);
    assert.equal(i.Config.Volumes, want.Volumes);
    assert.is(i.Config.StopSignal, want.StopSignal);
    assert.is(i.Config.User, undefined, 'an empty User is left out, as podman does');
    assert.is(i.User, '');
    assert.equal(i.Labels, want.Labels);
    assert.equal(i.RootFS, { Type: 'layers', Layers: ly.diffIds });
    assert.is(i.History.length, ly.history.length);
    assert.equal(i.History.map((h: { created_by: string }) => h.created_by), ly.history.map((h) => h.created_by));
    // Size: the uncompressed layers, computed here from the registry's blobs.
    let size = 0;
    for (const l of ly.layers) size += decompressLayer((await getBlob(REGISTRY, 'layered', l.digest)).body, l.mediaType).length;
    assert.is(i.Size, size);
    assert.is(i.VirtualSize, size);
    assert.is(i.GraphDriver.Name, 'overlay');
    assert.is(i.GraphDriver.Data.UpperDir, layerDiff(store, ly.diffIds[ly.diffIds.length - 1]));
    assert.equal(i.NamesHistory, [`${REGISTRY}/layered:latest`]);
    assert.match(r.stdout, /^\[\n {5}\{\n {10}"Id": /, "podman's inspect indentation");
  });
});

inspect('busybox by ID and by name, --format, and an unknown name among known ones', async () => {
  const bb = F().busybox;
  await withStore(TEST_USER, async (run) => {
    await ok(run, ['pull', '-q', `${REGISTRY}/busybox`]);
    const a = JSON.parse((await ok(run, ['image', 'inspect', bb.imageId.slice(0, 12)])).stdout)[0];
    assert.is(a.Id, bb.imageId);
    assert.equal(a.Config, bb.config);
    assert.is(a.Labels, null);
    assert.equal(a.RootFS.Layers, bb.diffIds);
    const f = await ok(run, ['image', 'inspect', '--format', '{{.Config.Cmd}} {{.Os}}/{{.Architecture}} {{len .RootFS.Layers}}', 'busybox']);
    assert.is(f.stdout, `[sh] linux/${bb.architecture} 1\n`);
    const mixed = await run(['image', 'inspect', 'busybox', 'nosuch']);
    assertOneLineError(mixed, /nosuch: image not known/);
    assert.is(JSON.parse(mixed.stdout)[0].Id, bb.imageId, 'the known one is still printed');
  });
});

tags.run();
removal.run();
inspect.run();
