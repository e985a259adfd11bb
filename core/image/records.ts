// Changes to image records. Every function here runs under the store lock (the caller's
// withLock), reads images.json, changes it and writes it back with one rename.

import type { ImageRecord, Store } from '../store/store';

export interface NewImage {
  id: string;
  /** Tagged name to give it (moved away from any other image that has it). */
  name?: string;
  digests: string[];
  manifestDigest: string;
  layers: string[];
  size: number;
  created: string;
}

/** Adds or updates an image; a name moves to it from whichever image had it before. */
export function recordImage(store: Store, img: NewImage): ImageRecord {
  const images = store.images();
  if (img.name) for (const other of images) other.names = other.names.filter((n) => n !== img.name);
  let rec = images.find((i) => i.id === img.id);
  if (!rec) {
    rec = {
      id: img.id,
      names: [],
      digests: [],
      manifestDigest: img.manifestDigest,
      layers: img.layers,
      size: img.size,
      created: img.created,
      added: new Date().toISOString(),
    };
    images.push(rec);
  }
  if (img.name) rec.names.push(img.name);
  for (const d of img.digests) if (!rec.digests.includes(d)) rec.digests.push(d);
  rec.manifestDigest = img.manifestDigest;
  store.saveImages(images);
  return rec;
}

/** Gives image `id` the tagged name `name` (taking it from another image if needed). */
export function addName(store: Store, id: string, name: string): void {
  const images = store.images();
  for (const other of images) other.names = other.names.filter((n) => n !== name);
  const rec = images.find((i) => i.id === id);
  if (!rec) return;
  rec.names.push(name);
  store.saveImages(images);
}

/** Removes a name from image `id`; false if it did not have it. */
export function removeName(store: Store, id: string, name: string): boolean {
  const images = store.images();
  const rec = images.find((i) => i.id === id);
  if (!rec || !rec.names.includes(name)) return false;
  rec.names = rec.names.filter((n) => n !== name);
  store.saveImages(images);
  return true;
}

/** The blobs an image keeps: its config, its manifest, and the index it was pulled from. */
export function blobsOf(image: ImageRecord): string[] {
  return ['sha256:' + image.id, image.manifestDigest, ...image.digests];
}

/**
 * Deletes image records and the blobs no remaining image refers to; returns the layers that no
 * remaining image uses (the caller moves them out of the store).
 */
export function deleteImages(store: Store, ids: string[]): string[] {
  const images = store.images();
  const gone = new Set(ids);
  const remaining = images.filter((i) => !gone.has(i.id));
  const used = new Set(remaining.flatMap((i) => i.layers));
  const removed = images.filter((i) => gone.has(i.id));
  const freed = new Set(removed.flatMap((i) => i.layers).filter((l) => !used.has(l)));
  store.saveImages(remaining);
  const kept = new Set(remaining.flatMap(blobsOf));
  for (const b of new Set(removed.flatMap(blobsOf))) if (!kept.has(b)) store.removeBlob(b);
  return [...freed];
}
