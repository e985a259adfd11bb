// From a reference to everything a pull needs before the layers: the image manifest (chosen from
// a manifest list or index for the wanted platform), its digest, and the image config. Every
// manifest is checked against the digest it was asked by, or against Docker-Content-Digest when
// asked by tag; the config against its descriptor.

import { formatReference, Reference } from '../reference';
import { wrap } from '../errors';
import { log } from '../log';
import { isTransientNetworkError, networkErrorText, readBody } from './http';
import { readBlobWith } from './blob';
import {
  Descriptor, digestOf, isValidDigest, MANIFEST_ACCEPT, manifestKind, manifestMediaType, parseImageManifest,
  parseIndex, parseJsonObject, schema1Error,
} from './manifest';
import { chooseEntry, formatPlatform, normalizePlatform, Platform } from './platform';
import { RegistryError } from './registry-error';
import { withRetries } from './retry';
import { manifestPath, RegistryOptions, RepoClient, responseError } from './session';

/** containers/image's limits: manifests and configs are small documents. */
export const MANIFEST_LIMIT = 4 << 20;
export const CONFIG_LIMIT = 4 << 20;

export interface ResolvedImage {
  /** Digest of the image manifest (sha256), the one image records keep. */
  manifestDigest: string;
  manifestMediaType: string;
  manifest: Buffer;
  /** The manifest list or index the image was chosen from, if any. */
  indexDigest?: string;
  index?: Buffer;
  configDigest: string;
  config: Buffer;
  layers: Descriptor[];
}

interface Fetched {
  body: Buffer;
  mediaType: string;
  json: Record<string, unknown>;
  /** sha256 of the body. */
  digest: string;
}

/** GETs a manifest by tag or digest and checks it against the digest that names it. */
export async function fetchManifest(client: RepoClient, tagOrDigest: string): Promise<Fetched> {
  const what = `reading manifest ${tagOrDigest} in ${client.name}`;
  const { body, contentType, claimed } = await withRetries(what, async () => {
    const { res } = await client.request('GET', manifestPath(client.repoPath, tagOrDigest), { headers: { Accept: MANIFEST_ACCEPT } });
    if (res.statusCode !== 200) throw await responseError(what, res);
    let b: Buffer;
    try {
      b = await readBody(res, MANIFEST_LIMIT, 'manifest');
    } catch (err) {
      if (err instanceof RegistryError || !isTransientNetworkError(err)) throw wrap(what, err);
      throw new RegistryError(`${what}: ${networkErrorText(err)}`, { kind: 'network', transient: true, cause: err });
    }
    const dcd = res.headers['docker-content-digest'];
    return { body: b, contentType: res.headers['content-type'], claimed: typeof dcd === 'string' ? dcd.trim() : undefined };
  });

  if (isValidDigest(tagOrDigest)) {
    const actual = digestOf(body, tagOrDigest);
    if (actual !== tagOrDigest) throw new RegistryError(`${what}: manifest digest mismatch: got ${actual}`, { kind: 'protocol' });
  } else if (claimed && isValidDigest(claimed)) {
    const actual = digestOf(body, claimed);
    if (actual !== claimed) {
      throw new RegistryError(`${what}: manifest digest mismatch: the registry says ${claimed}, the content has ${actual}`, { kind: 'protocol' });
    }
  }
  let json: Record<string, unknown>;
  try {
    json = parseJsonObject(body, 'manifest');
  } catch (err) {
    throw wrap(what, err);
  }
  return { body, json, mediaType: manifestMediaType(json, contentType), digest: digestOf(body) };
}

/** Warns, as podman does, when a single-platform image is not for the wanted platform. */
function checkConfigPlatform(config: Buffer, want: Platform): void {
  let c: { os?: unknown; architecture?: unknown; variant?: unknown };
  try {
    c = JSON.parse(config.toString('utf8'));
  } catch {
    return; // the store's config parser will say what is wrong with it
  }
  if (typeof c.os !== 'string' || typeof c.architecture !== 'string') return;
  const got = normalizePlatform({ os: c.os, architecture: c.architecture, variant: typeof c.variant === 'string' ? c.variant : undefined });
  const w = normalizePlatform(want);
  if (got.os !== w.os || got.architecture !== w.architecture) {
    log.warn(`image platform (${formatPlatform(got)}) does not match the expected platform (${formatPlatform(w)})`);
  }
}

/**
 * Resolves a reference to its image manifest and config for `platform`. Errors read like podman's:
 * `initializing source docker://localhost:5000/nosuch:latest: reading manifest latest in
 * localhost:5000/nosuch: manifest unknown: manifest unknown`.
 */
export async function resolveImage(ref: Reference, platform: Platform, opts: RegistryOptions = {}): Promise<ResolvedImage> {
  const source = `docker://${formatReference(ref)}`;
  const tagOrDigest = ref.digest ?? ref.tag ?? 'latest';
  let client: RepoClient;
  let top: Fetched;
  try {
    client = new RepoClient(ref, opts, 'pull');
    top = await fetchManifest(client, tagOrDigest);
  } catch (err) {
    throw wrap(`initializing source ${source}`, err);
  }

  let image = top;
  let index: Fetched | undefined;
  const kind = manifestKind(top.mediaType);
  if (kind === 'schema1' || kind === 'other') {
    const why = kind === 'schema1' ? schema1Error(top.mediaType) : new Error(`unsupported manifest type ${top.mediaType}`);
    throw wrap(`initializing source ${source}`, wrap(`reading manifest ${tagOrDigest} in ${client.name}`, why));
  }
  if (kind === 'index') {
    index = top;
    const context = `choosing an image from manifest list ${source}`;
    try {
      const list = parseIndex(top.json, top.mediaType);
      const entry = chooseEntry(list.manifests, platform);
      image = await fetchManifest(client, entry.digest);
      if (image.body.length !== entry.size) {
        throw new RegistryError(`manifest ${entry.digest} has ${image.body.length} bytes, the list declares ${entry.size}`, { kind: 'protocol' });
      }
      const childKind = manifestKind(image.mediaType);
      if (childKind === 'index') throw new RegistryError(`manifest ${entry.digest} is itself a manifest list; nested lists are not supported`, { kind: 'protocol' });
      if (childKind !== 'image') throw childKind === 'schema1' ? schema1Error(image.mediaType) : new Error(`unsupported manifest type ${image.mediaType}`);
    } catch (err) {
      throw wrap(context, err);
    }
  }

  let manifest;
  try {
    manifest = parseImageManifest(image.json, image.mediaType);
  } catch (err) {
    throw wrap(`initializing source ${source}`, wrap(`reading manifest ${image === top ? tagOrDigest : image.digest} in ${client.name}`, err));
  }
  const config = await readBlobWith(client, manifest.config, CONFIG_LIMIT);
  if (!index) checkConfigPlatform(config, platform);
  return {
    manifestDigest: image.digest,
    manifestMediaType: image.mediaType,
    manifest: image.body,
    indexDigest: index?.digest,
    index: index?.body,
    configDigest: manifest.config.digest,
    config,
    layers: manifest.layers,
  };
}
