// Pulling an image: resolve the manifest (platform choice included), fetch the config, then
// stream each missing layer through digest check, decompression, diff_id check and unpacking,
// a few at a time; finally record the image under the store lock. Layers already in the store
// are not fetched again, across images and across concurrent tspod processes.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { TspodError, describe } from '../errors';
import { holdUserns, removeTrees, spawnUnpacker } from '../helper';
import { currentMapping } from '../idmap';
import { unpackLayer } from '../layer/unpack';
import { log } from '../log';
import { formatReference, parseReference, repository, taggedName, type Reference } from '../reference';
import { hostPlatform, openBlob, resolveImage, type Descriptor, type Platform, type RegistryOptions, type ResolvedImage } from '../registry';
import type { ImageRecord, Store } from '../store/store';
import { recordImage } from './records';

export interface PullProgress {
  /** Before the registry is asked: podman says which reference it tries even when that fails. */
  trying?(reference: string): void;
  /** The manifest is known: these blobs will be copied (or skipped). */
  resolved?(info: { reference: string; layers: Descriptor[]; configDigest: string }): void;
  layerStart?(desc: Descriptor, skipped: boolean): void;
  layerBytes?(desc: Descriptor, bytes: number): void;
  layerDone?(desc: Descriptor): void;
  configCopied?(digest: string): void;
  /** Writing the image record. */
  storing?(): void;
}

export interface PullOptions extends RegistryOptions {
  platform?: Platform;
  progress?: PullProgress;
  /** Parallel layer downloads (default 3). */
  parallel?: number;
}

export interface PullResult {
  image: ImageRecord;
  reference: Reference;
}

interface ImageConfig {
  architecture?: string;
  os?: string;
  created?: string;
  rootfs?: { type?: string; diff_ids?: string[] };
}

/** Pulls `input` (normalized against docker.io) into the store and returns its record. */
export async function pullImage(store: Store, input: string, opts: PullOptions = {}): Promise<PullResult> {
  const ref = parseReference(input);
  const platform = opts.platform ?? hostPlatform();
  const progress = opts.progress ?? {};
  void store.cleanupTemp();

  progress.trying?.(formatReference(ref));
  const resolved = await resolveImage(ref, platform, opts);
  let config: ImageConfig;
  try {
    config = JSON.parse(resolved.config.toString('utf8')) as ImageConfig;
  } catch {
    throw new TspodError(`${formatReference(ref)}: image config ${resolved.configDigest} is not valid JSON`);
  }
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (config.rootfs?.type !== 'layers' || diffIds.length !== resolved.layers.length) {
    throw new TspodError(`${formatReference(ref)}: the config lists ${diffIds.length} diff_ids for ${resolved.layers.length} layers`);
  }
  for (const d of diffIds) {
    if (!/^sha256:[a-f0-9]{64}$/.test(d)) throw new TspodError(`${formatReference(ref)}: invalid diff_id "${d}" in the image config`);
  }
  progress.resolved?.({ reference: formatReference(ref), layers: resolved.layers, configDigest: resolved.configDigest });

  await fetchLayers(store, ref, resolved.layers, diffIds, opts);
  progress.configCopied?.(resolved.configDigest);
  progress.storing?.();

  for (let attempt = 0; ; attempt++) {
    const image = await store.withLock(async () => {
      // A concurrent rmi may have removed a layer we saw as present: then fetch it again.
      if (diffIds.some((d) => !store.hasLayer(d))) return undefined;
      return storeRecord(store, ref, resolved, config, diffIds);
    });
    if (image) return { image, reference: ref };
    if (attempt === 2) throw new TspodError(`${formatReference(ref)}: layers keep disappearing while pulling (another tspod removing images?)`);
    await fetchLayers(store, ref, resolved.layers, diffIds, opts);
  }
}

/**
 * The name a pulled image is recorded under, as podman does: `repo:tag`, or `repo@digest` when
 * the reference has a digest (a tag next to a digest is not verified, so it is not recorded).
 * Without a name, an image pulled by digest would look dangling and `image prune` would take it.
 */
function recordedName(ref: Reference): string | undefined {
  return ref.digest !== undefined ? `${repository(ref)}@${ref.digest}` : taggedName(ref);
}

function storeRecord(store: Store, ref: Reference, resolved: ResolvedImage, config: ImageConfig, diffIds: string[]): ImageRecord {
  store.putBlob(resolved.configDigest, resolved.config);
  store.putBlob(resolved.manifestDigest, resolved.manifest);
  if (resolved.indexDigest && resolved.index) store.putBlob(resolved.indexDigest, resolved.index);
  const size = diffIds.reduce((n, d) => n + (store.layer(d)?.size ?? 0), 0);
  const digests = [resolved.manifestDigest, ...(resolved.indexDigest ? [resolved.indexDigest] : [])];
  return recordImage(store, {
    id: resolved.configDigest.slice(7),
    name: recordedName(ref),
    digests,
    manifestDigest: resolved.manifestDigest,
    layers: diffIds,
    size,
    created: config.created ?? new Date(0).toISOString(),
  });
}

async function fetchLayers(store: Store, ref: Reference, layers: Descriptor[], diffIds: string[], opts: PullOptions): Promise<void> {
  const progress = opts.progress ?? {};
  // The same diff_id twice in one image (it happens: empty layers) is fetched once.
  const seen = new Set<string>();
  const jobs: Array<{ desc: Descriptor; diffId: string }> = [];
  const repeats: Descriptor[] = [];
  layers.forEach((desc, i) => {
    if (seen.has(diffIds[i])) repeats.push(desc);
    else jobs.push({ desc, diffId: diffIds[i] });
    seen.add(diffIds[i]);
  });
  // One user namespace for all the layers this pull unpacks (newuidmap and newgidmap once).
  const mapping = currentMapping();
  const holder = jobs.some((j) => !store.hasLayer(j.diffId)) ? await holdUserns(mapping) : undefined;
  let failed: unknown;
  const worker = async () => {
    for (;;) {
      const job = jobs.shift();
      if (!job || failed) return;
      try {
        await fetchLayer(store, ref, job.desc, job.diffId, opts, holder?.pid);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  try {
    const n = Math.max(1, Math.min(opts.parallel ?? 3, jobs.length));
    await Promise.all(Array.from({ length: n }, worker));
  } finally {
    holder?.release();
  }
  if (failed) throw failed;
  for (const desc of repeats) progress.layerStart?.(desc, true);
}

async function fetchLayer(store: Store, ref: Reference, desc: Descriptor, diffId: string, opts: PullOptions, join?: number): Promise<void> {
  const progress = opts.progress ?? {};
  if (store.hasLayer(diffId)) {
    progress.layerStart?.(desc, true);
    return;
  }
  const lock = await store.lockLayer(diffId);
  try {
    if (store.hasLayer(diffId)) {
      progress.layerStart?.(desc, true);
      return;
    }
    progress.layerStart?.(desc, false);
    const staging = store.newTempDir('layer');
    const diff = path.join(staging, 'diff');
    fs.mkdirSync(diff, { mode: 0o755 });
    const mapping = currentMapping();
    const sink = spawnUnpacker(diff, { mapping, join });
    try {
      const blob = await openBlob(ref, desc, { ...opts, onProgress: (bytes) => progress.layerBytes?.(desc, bytes) });
      const result = await unpackLayer(blob, { expectedDiffId: diffId, sink, layerName: desc.digest });
      if (result.report.chownCollapsed > 0 && mapping.single) {
        log.warnOnce('single-mapping', `using rootless single mapping into the namespace (${mapping.reason}): files of other users in images are owned by you`);
      }
      store.commitLayer(staging, {
        diffId,
        size: result.size,
        compressedDigest: desc.digest,
        compressedSize: desc.size,
        mediaType: desc.mediaType,
        added: new Date().toISOString(),
      });
    } catch (err) {
      sink.abort();
      await sink.done.catch(() => undefined);
      // The staging directory may hold files owned by subordinate ids: removed inside the user
      // namespace (if that fails too, the next run's cleanup of dead processes' entries does it).
      await removeTrees([staging]).catch(() => undefined);
      throw err instanceof TspodError ? err : new TspodError(`copying blob ${desc.digest}: ${describe(err)}`, { cause: err });
    }
    progress.layerDone?.(desc);
  } finally {
    lock.release();
  }
}

