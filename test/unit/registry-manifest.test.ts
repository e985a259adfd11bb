import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  checkDescriptor, digestOf, MANIFEST_ACCEPT, manifestKind, manifestMediaType, MediaTypes as M, parseImageManifest, parseIndex,
} from '../../core/registry/manifest';
import { blobPath, manifestPath, repositoryScope, uploadPath } from '../../core/registry/session';
import { parseReference, registryHost } from '../../core/reference';

const D = 'sha256:' + 'a'.repeat(64);
const D2 = 'sha256:' + 'b'.repeat(64);
const layer = { mediaType: M.ociLayerGzip, digest: D2, size: 10 };
const config = { mediaType: M.ociConfig, digest: D, size: 2 };

test('reference -> request paths, hosts and scopes', () => {
  const ref = parseReference('busybox');
  assert.is(registryHost(ref.domain), 'registry-1.docker.io');
  assert.is(manifestPath(ref.path, ref.tag!), '/v2/library/busybox/manifests/latest');
  assert.is(repositoryScope(ref.path, 'pull'), 'repository:library/busybox:pull');
  const own = parseReference(`localhost:5000/team/app@${D}`);
  assert.is(registryHost(own.domain), 'localhost:5000');
  assert.is(manifestPath(own.path, own.digest!), `/v2/team/app/manifests/${D}`);
  assert.is(blobPath(own.path, D2), `/v2/team/app/blobs/${D2}`);
  assert.is(uploadPath(own.path), '/v2/team/app/blobs/uploads/');
  assert.is(repositoryScope(own.path, 'pull,push'), 'repository:team/app:pull,push');
});

test('Accept lists indexes and image manifests of both kinds, schema 1 last', () => {
  const types = MANIFEST_ACCEPT.split(', ');
  for (const t of [M.ociIndex, M.dockerList, M.ociManifest, M.dockerManifest]) assert.ok(types.includes(t), t);
  assert.is(types[types.length - 1], M.dockerSchema1);
});

test('media type: body field, else Content-Type, else shape', () => {
  assert.is(manifestMediaType({ mediaType: M.dockerManifest }, 'application/json'), M.dockerManifest);
  assert.is(manifestMediaType({ schemaVersion: 2 }, `${M.ociIndex}; charset=utf-8`), M.ociIndex);
  assert.is(manifestMediaType({ schemaVersion: 2, manifests: [] }, 'application/json'), M.ociIndex);
  assert.is(manifestMediaType({ schemaVersion: 2, config: {}, layers: [] }, undefined), M.ociManifest);
  assert.is(manifestMediaType({ schemaVersion: 1, signatures: [] }, 'text/plain'), M.dockerSchema1Signed);
  assert.is(manifestKind(M.dockerSchema1Signed), 'schema1');
  assert.is(manifestKind(M.dockerList), 'index');
  assert.is(manifestKind(M.ociManifest), 'image');
  assert.is(manifestKind('application/vnd.oci.artifact.manifest.v1+json'), 'other');
});

test('digests', () => {
  assert.is(digestOf(Buffer.from('')), 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.match(digestOf(Buffer.from(''), 'sha512:x'), /^sha512:cf83e1357eef/);
});

test('image manifest parsed', () => {
  const m = parseImageManifest({ schemaVersion: 2, mediaType: M.ociManifest, config, layers: [layer, { ...layer, urls: ['https://x/y'], annotations: { a: 'b' } }] }, M.ociManifest);
  assert.equal(m.config, config);
  assert.equal(m.layers[1], { ...layer, urls: ['https://x/y'], annotations: { a: 'b' } });
});

test('hostile descriptors and manifests are refused with what is wrong', () => {
  const table: [unknown, RegExp][] = [
    [null, /not an object/],
    [[], /not an object/],
    [{ ...layer, mediaType: undefined }, /missing mediaType/],
    [{ ...layer, digest: 'sha256:../../../etc/passwd' }, /invalid digest/],
    [{ ...layer, digest: 'sha256:' + 'A'.repeat(64) }, /invalid digest/],
    [{ ...layer, digest: 'md5:' + 'a'.repeat(32) }, /invalid digest/],
    [{ ...layer, digest: D + '\n' }, /invalid digest/],
    [{ ...layer, size: -1 }, /invalid size/],
    [{ ...layer, size: 1.5 }, /invalid size/],
    [{ ...layer, size: '10' }, /invalid size/],
    [{ ...layer, size: 2 ** 60 }, /invalid size/],
    [{ ...layer, urls: ['file:///etc/passwd'] }, /urls must be http/],
    [{ ...layer, urls: 'https://x' }, /urls must be http/],
    [{ ...layer, annotations: { a: 1 } }, /annotation a is not a string/],
  ];
  for (const [raw, re] of table) assert.throws(() => checkDescriptor(raw, 'layer 1'), re, JSON.stringify(raw));

  const manifests: [Record<string, unknown>, RegExp][] = [
    [{ schemaVersion: 1, config, layers: [] }, /schemaVersion 1, expected 2/],
    [{ schemaVersion: 2, layers: [] }, /invalid config descriptor: not an object/],
    [{ schemaVersion: 2, config, layers: {} }, /layers is not an array/],
    [{ schemaVersion: 2, config: { ...config, mediaType: 'application/vnd.cncf.helm.config.v1+json' }, layers: [] }, /not a container image: its config has media type application\/vnd\.cncf\.helm/],
    [{ schemaVersion: 2, config, layers: [{ ...layer, mediaType: 'application/x-evil' }] }, /unsupported media type application\/x-evil of layer 1/],
    [{ schemaVersion: 2, config, layers: [layer, { ...layer, size: -5 }] }, /invalid layer 2: invalid size/],
  ];
  for (const [raw, re] of manifests) assert.throws(() => parseImageManifest(raw, M.ociManifest), re, JSON.stringify(raw));
});

test('index parsed; entries without a mediaType get the list kind; bad platforms refused', () => {
  const idx = parseIndex({ schemaVersion: 2, manifests: [{ digest: D, size: 5, platform: { os: 'linux', architecture: 'amd64' } }] }, M.dockerList);
  assert.equal(idx.manifests[0], { mediaType: M.dockerManifest, digest: D, size: 5, platform: { os: 'linux', architecture: 'amd64', variant: undefined } });
  assert.throws(() => parseIndex({ schemaVersion: 2, manifests: [{ digest: D, size: 5, platform: 'linux' }] }, M.ociIndex), /platform is not an object/);
  assert.throws(() => parseIndex({ schemaVersion: 2, manifests: [{ digest: D, size: 5, platform: { os: 1 } }] }, M.ociIndex), /platform os is not a string/);
  assert.throws(() => parseIndex({ schemaVersion: 2, manifests: null }, M.ociIndex), /manifests is not an array/);
  assert.throws(() => parseIndex({ schemaVersion: 2, manifests: [{ mediaType: M.ociManifest, digest: 'x', size: 1 }] }, M.ociIndex), /manifest list entry 1: invalid digest/);
});

test.run();
