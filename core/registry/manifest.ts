// Manifests as registries serve them: Docker schema 2 and OCI image manifests, Docker manifest
// lists and OCI indexes. Parsing checks every field the engine will trust later (digests end up in
// file names, sizes bound downloads), so a hostile registry gets a clear refusal here. Pure.

import * as crypto from 'node:crypto';
import { TspodError } from '../errors';

export const MediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerTar: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
} as const;

const M = MediaTypes;

/** What we ask for, best first; schema 1 last so that a registry holding only that says so. */
export const MANIFEST_ACCEPT = [M.ociIndex, M.dockerList, M.ociManifest, M.dockerManifest, M.dockerSchema1Signed, M.dockerSchema1].join(', ');

const IMAGE_MANIFESTS: ReadonlySet<string> = new Set([M.ociManifest, M.dockerManifest]);
const INDEXES: ReadonlySet<string> = new Set([M.ociIndex, M.dockerList]);
const SCHEMA1: ReadonlySet<string> = new Set([M.dockerSchema1, M.dockerSchema1Signed]);
const CONFIGS: ReadonlySet<string> = new Set([M.ociConfig, M.dockerConfig]);
const LAYERS: ReadonlySet<string> = new Set([
  M.dockerLayerGzip, M.dockerLayerTar, M.dockerForeignLayer, M.ociLayer, M.ociLayerGzip, M.ociLayerZstd,
  M.ociLayerNondistributable, M.ociLayerNondistributableGzip, M.ociLayerNondistributableZstd,
]);

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
}

export interface IndexEntry extends Descriptor {
  platform?: { os?: string; architecture?: string; variant?: string; 'os.version'?: string; 'os.features'?: string[] };
}

export interface ImageManifest {
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface ImageIndex {
  mediaType: string;
  manifests: IndexEntry[];
}

const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export function isValidDigest(d: unknown): d is string {
  return typeof d === 'string' && DIGEST.test(d);
}

/** `sha256:<hex>` of some bytes, with the algorithm of `like` (sha256 unless it is sha512). */
export function digestOf(data: Uint8Array, like = 'sha256:'): string {
  const alg = like.startsWith('sha512:') ? 'sha512' : 'sha256';
  return `${alg}:${crypto.createHash(alg).update(data).digest('hex')}`;
}

export function digestAlgorithm(digest: string): 'sha256' | 'sha512' {
  return digest.startsWith('sha512:') ? 'sha512' : 'sha256';
}

function bad(msg: string): TspodError {
  return new TspodError(msg);
}

/** A descriptor checked field by field; `where` names it in errors (`layer 2`). */
export function checkDescriptor(raw: unknown, where: string): Descriptor {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad(`invalid ${where}: not an object`);
  const d = raw as Record<string, unknown>;
  if (typeof d.mediaType !== 'string' || d.mediaType === '') throw bad(`invalid ${where}: missing mediaType`);
  if (!isValidDigest(d.digest)) throw bad(`invalid ${where}: invalid digest ${JSON.stringify(d.digest)}`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw bad(`invalid ${where}: invalid size ${JSON.stringify(d.size)}`);
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.urls !== undefined) {
    if (!Array.isArray(d.urls) || d.urls.some((u) => typeof u !== 'string' || !/^https?:\/\//.test(u))) throw bad(`invalid ${where}: urls must be http(s) URLs`);
    out.urls = d.urls as string[];
  }
  if (d.annotations !== undefined && d.annotations !== null) {
    if (typeof d.annotations !== 'object' || Array.isArray(d.annotations)) throw bad(`invalid ${where}: annotations must be an object`);
    const ann: Record<string, string> = {};
    for (const [k, v] of Object.entries(d.annotations as Record<string, unknown>)) {
      if (typeof v !== 'string') throw bad(`invalid ${where}: annotation ${k} is not a string`);
      ann[k] = v;
    }
    out.annotations = ann;
  }
  return out;
}

export function parseJsonObject(body: Buffer, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw bad(`invalid ${what}: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`invalid ${what}: not a JSON object`);
  return v as Record<string, unknown>;
}

/**
 * The media type of a manifest: the body's own mediaType field, else the Content-Type the registry
 * sent (generic JSON types do not count), else a guess from its shape, as containers/image guesses.
 */
export function manifestMediaType(json: Record<string, unknown>, contentType: string | undefined): string {
  if (typeof json.mediaType === 'string' && json.mediaType !== '') return json.mediaType;
  const ct = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (ct !== '' && ct !== 'application/json' && ct !== 'text/plain' && ct !== 'application/octet-stream') return ct;
  if (json.schemaVersion === 1) return json.signatures ? M.dockerSchema1Signed : M.dockerSchema1;
  if (Array.isArray(json.manifests)) return M.ociIndex;
  if (json.config !== undefined && Array.isArray(json.layers)) return M.ociManifest;
  return ct || 'unknown';
}

export type ManifestKind = 'image' | 'index' | 'schema1' | 'other';

export function manifestKind(mediaType: string): ManifestKind {
  if (IMAGE_MANIFESTS.has(mediaType)) return 'image';
  if (INDEXES.has(mediaType)) return 'index';
  if (SCHEMA1.has(mediaType)) return 'schema1';
  return 'other';
}

export function schema1Error(mediaType: string): TspodError {
  return bad(
    `unsupported manifest type ${mediaType}: Docker schema 1 images are not supported; ` +
      'the image must be pushed again with a current tool (schema 2 or OCI)',
  );
}

export function parseImageManifest(json: Record<string, unknown>, mediaType: string): ImageManifest {
  if (json.schemaVersion !== 2) throw bad(`invalid image manifest: schemaVersion ${JSON.stringify(json.schemaVersion)}, expected 2`);
  const config = checkDescriptor(json.config, 'config descriptor');
  if (!CONFIGS.has(config.mediaType)) {
    throw bad(`not a container image: its config has media type ${config.mediaType} (an OCI artifact?)`);
  }
  if (!Array.isArray(json.layers)) throw bad('invalid image manifest: layers is not an array');
  const layers = json.layers.map((l, i) => checkDescriptor(l, `layer ${i + 1}`));
  layers.forEach((l, i) => {
    if (!LAYERS.has(l.mediaType)) throw bad(`unsupported media type ${l.mediaType} of layer ${i + 1}`);
  });
  return { mediaType, config, layers };
}

export function parseIndex(json: Record<string, unknown>, mediaType: string): ImageIndex {
  if (json.schemaVersion !== 2) throw bad(`invalid manifest list: schemaVersion ${JSON.stringify(json.schemaVersion)}, expected 2`);
  if (!Array.isArray(json.manifests)) throw bad('invalid manifest list: manifests is not an array');
  const manifests = json.manifests.map((m, i): IndexEntry => {
    const where = `manifest list entry ${i + 1}`;
    // Docker's lists and old OCI indexes may leave an entry's mediaType out.
    const withType = typeof m === 'object' && m !== null && !(m as { mediaType?: unknown }).mediaType
      ? { ...(m as object), mediaType: mediaType === M.dockerList ? M.dockerManifest : M.ociManifest }
      : m;
    const d = checkDescriptor(withType, where);
    const p = (m as { platform?: unknown }).platform;
    if (p === undefined || p === null) return d;
    if (typeof p !== 'object' || Array.isArray(p)) throw bad(`invalid ${where}: platform is not an object`);
    const pp = p as Record<string, unknown>;
    for (const k of ['os', 'architecture', 'variant'] as const) {
      if (pp[k] !== undefined && typeof pp[k] !== 'string') throw bad(`invalid ${where}: platform ${k} is not a string`);
    }
    return { ...d, platform: { os: pp.os as string | undefined, architecture: pp.architecture as string | undefined, variant: pp.variant as string | undefined } };
  });
  return { mediaType, manifests };
}
