// `rmi` and `image prune`, podman's semantics: removing a name untags; removing the last name
// (or the ID) deletes the image and the layers no other image uses. Removing an image with
// several names by ID, or one that containers use, needs force. Files of deleted layers may be
// owned by subordinate ids: they are removed inside the user namespace.

import { removeTrees } from '../helper';
import type { Store } from '../store/store';
import { findImage } from './lookup';
import { blobsOf, deleteImages } from './records';

/** What containers know about images; supplied by the container store. */
export interface ContainerUsage {
  /** IDs of containers created from the image. */
  usersOf(imageId: string): string[];
  /** Removes containers (rmi -f). */
  remove(containerIds: string[]): Promise<void>;
}

export const noContainers: ContainerUsage = { usersOf: () => [], remove: async () => undefined };

export interface RemoveReport {
  untagged: string[];
  deleted: string[];
  /** Per-argument failures: the message, and podman's exit code class. */
  errors: Array<{ input: string; message: string; exitCode: number }>;
}

// podman rmi's exit codes: 1 an image was not found, 2 an image is in use, 125 anything else.
export const RMI_NOT_FOUND = 1;
export const RMI_IN_USE = 2;

export async function removeImages(
  store: Store,
  inputs: string[],
  opts: { force?: boolean; all?: boolean; containers?: ContainerUsage } = {},
): Promise<RemoveReport> {
  const containers = opts.containers ?? noContainers;
  const report: RemoveReport = { untagged: [], deleted: [], errors: [] };
  const trash = await store.withLock(async () => {
    const deleteIds: string[] = [];
    const targets = opts.all ? store.images().map((i) => i.id) : inputs;
    for (const input of targets) {
      const images = store.images();
      const hit = findImage(images, input);
      if (!hit) {
        report.errors.push({ input, message: `${input}: image not known`, exitCode: RMI_NOT_FOUND });
        continue;
      }
      const image = hit.image;
      const byName = !opts.all && hit.name !== undefined;
      if (byName && image.names.length > 1) {
        // Untag only: the image keeps its other names.
        const saved = image.names.filter((n) => n !== hit.name);
        store.saveImages(images.map((i) => (i.id === image.id ? { ...i, names: saved } : i)));
        report.untagged.push(hit.name!);
        continue;
      }
      if (!byName && !opts.all && image.names.length > 1 && !opts.force) {
        report.errors.push({
          input,
          message: `unable to delete image "${input}" by ID with more than one tag ([${image.names.join(' ')}]): please force removal`,
          exitCode: 125,
        });
        continue;
      }
      const users = containers.usersOf(image.id);
      if (users.length > 0) {
        if (!opts.force) {
          report.errors.push({
            input,
            message: `image used by ${users[0]}: image is in use by a container: consider listing external containers and force-removing image`,
            exitCode: RMI_IN_USE,
          });
          continue;
        }
        await containers.remove(users);
      }
      report.untagged.push(...image.names);
      store.saveImages(images.map((i) => (i.id === image.id ? { ...i, names: [] } : i)));
      deleteIds.push(image.id);
      report.deleted.push(image.id);
    }
    const freed = deleteImages(store, deleteIds);
    return store.detachLayers(freed);
  });
  await removeTrees(trash);
  return report;
}

/** Dangling images (or, with all, every image no container uses) are removed. */
export async function pruneImages(store: Store, opts: { all?: boolean; containers?: ContainerUsage; filters?: string[] } = {}): Promise<string[]> {
  const containers = opts.containers ?? noContainers;
  const trash: string[] = [];
  const removed = await store.withLock(async () => {
    const ids = store
      .images()
      .filter((i) => (opts.all || i.names.length === 0) && containers.usersOf(i.id).length === 0)
      .map((i) => i.id);
    const freed = deleteImages(store, ids);
    trash.push(...store.detachLayers(freed));
    // Layers and blobs that no image lists (left by an interrupted pull or removal) go too.
    const images = store.images();
    const used = new Set(images.flatMap((i) => i.layers));
    trash.push(...store.detachLayers(store.layerIds().filter((l) => !used.has(l))));
    const kept = new Set(images.flatMap(blobsOf));
    for (const b of store.blobDigests()) if (!kept.has(b)) store.removeBlob(b);
    return ids;
  });
  await removeTrees(trash);
  return removed;
}
