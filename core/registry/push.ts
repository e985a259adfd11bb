// Upload to a registry, for `tspod push`: blobs (skipped when the registry has them) by a
// monolithic POST + PUT upload, then the manifest by tag or digest. Authentication asks for
// `pull,push` on the repository.

import { Readable } from 'node:stream';
import { Reference } from '../reference';
import { discard } from './http';
import { checkDescriptor, Descriptor, digestOf } from './manifest';
import { RegistryError } from './registry-error';
import { withRetries } from './retry';
import { blobPath, manifestPath, RegistryOptions, RepoClient, responseError, uploadPath } from './session';
import { prefixed } from './blob';

const PUSH = 'pull,push';

/** True when the repository already has the blob (HEAD answers 200). */
export async function blobExists(client: RepoClient, digest: string): Promise<boolean> {
  const what = `checking whether a blob ${digest} exists in ${client.name}`;
  return withRetries(what, async () => {
    let res;
    try {
      ({ res } = await client.request('HEAD', blobPath(client.repoPath, digest)));
    } catch (err) {
      throw prefixed(what, err);
    }
    discard(res);
    if (res.statusCode === 200) return true;
    if (res.statusCode === 404) return false;
    throw await responseError(what, res);
  });
}

/**
 * Uploads a blob unless the repository has it. `content` is the blob's bytes, or a function that
 * opens a stream of them (called at most once per attempt).
 */
export async function pushBlob(ref: Reference, desc: Descriptor, content: Buffer | (() => Readable), opts: RegistryOptions = {}): Promise<{ uploaded: boolean }> {
  const d = checkDescriptor(desc, 'blob descriptor');
  const client = new RepoClient(ref, opts, PUSH);
  if (Buffer.isBuffer(content) && (content.length !== d.size || digestOf(content, d.digest) !== d.digest)) {
    throw new RegistryError(`pushing blob ${d.digest}: the content does not match its descriptor`, { kind: 'protocol' });
  }
  if (await blobExists(client, d.digest)) return { uploaded: false };
  const what = `pushing blob ${d.digest} to ${client.name}`;
  await withRetries(what, async () => {
    let started;
    try {
      started = await client.request('POST', uploadPath(client.repoPath), { body: Buffer.alloc(0) });
    } catch (err) {
      throw prefixed(what, err);
    }
    if (started.res.statusCode !== 202 || !started.res.headers.location) throw await responseError(`${what}: starting the upload`, started.res);
    discard(started.res);
    const target = new URL(started.res.headers.location, started.url);
    target.searchParams.set('digest', d.digest);
    const body = Buffer.isBuffer(content) ? content : content();
    let done;
    try {
      done = await client.request('PUT', target, {
        headers: { 'Content-Type': 'application/octet-stream' },
        body,
        bodyLength: d.size,
      });
    } catch (err) {
      throw prefixed(what, err);
    }
    if (done.res.statusCode !== 201) throw await responseError(what, done.res);
    discard(done.res);
  });
  return { uploaded: true };
}

/** Uploads a manifest under the reference's tag (or digest) and returns its digest. */
export async function pushManifest(ref: Reference, manifest: Buffer, mediaType: string, opts: RegistryOptions = {}): Promise<string> {
  const client = new RepoClient(ref, opts, PUSH);
  const digest = digestOf(manifest, ref.digest ?? 'sha256:');
  if (ref.digest && ref.digest !== digest) {
    throw new RegistryError(`pushing manifest to ${client.name}: its digest is ${digest}, not ${ref.digest}`, { kind: 'protocol' });
  }
  const target = ref.tag ?? digest;
  const what = `writing manifest ${target} to ${client.name}`;
  await withRetries(what, async () => {
    let r;
    try {
      r = await client.request('PUT', manifestPath(client.repoPath, target), { headers: { 'Content-Type': mediaType }, body: manifest });
    } catch (err) {
      throw prefixed(what, err);
    }
    if (r.res.statusCode !== 201 && r.res.statusCode !== 200) throw await responseError(what, r.res);
    discard(r.res);
  });
  return digestOf(manifest);
}
