// The per-user store: content-addressed blobs, layers shared between images and stored once,
// image records with their names and digests. No daemon: every change happens under a file lock
// and lands with a rename, so two tspod processes at once are safe and a killed tspod leaves
// no half image behind (only temporary entries that the next run removes).
//
//   ROOT/store.json                     {"version": 1}
//   ROOT/storage.lock                   flock for changes to images.json and layers/
//   ROOT/images.json                    image records
//   ROOT/blobs/sha256/HEX               manifests, indexes and configs (verified)
//   ROOT/layers/HEX/diff/               an unpacked layer, HEX = its diff_id
//   ROOT/layers/HEX/layer.json          LayerRecord
//   ROOT/locks/                         per-layer extraction locks
//   ROOT/tmp/PID-RAND/                  staging; removed when PID is gone

import * as fs from 'node:fs';
import * as path from 'node:path';
import { TspodError, errnoCode } from '../errors';
import { fsyncDir, mkdirp, pidAlive, randomHex8, readJson, tempOwnerPid, writeFileAtomic, writeJsonAtomic } from '../fsutil';
import type { Lock } from '../helper';
import { log } from '../log';

export const STORE_VERSION = 1;

export interface ImageRecord {
  /** Hex of the config digest: the image ID. */
  id: string;
  /** Full tagged names in the order they were given: `docker.io/library/busybox:latest`. */
  names: string[];
  /** Manifest digests this image is known by (the image manifest, and the index it came from). */
  digests: string[];
  /** Digest of the image manifest kept in blobs/. */
  manifestDigest: string;
  /** diff_ids of the layers, bottom first. */
  layers: string[];
  /** Sum of the uncompressed layer sizes. */
  size: number;
  /** The config's `created`, RFC 3339. */
  created: string;
  /** When this store got the image, RFC 3339. */
  added: string;
}

export interface LayerRecord {
  diffId: string;
  /** Uncompressed tar size. */
  size: number;
  /** Digest of the blob it was unpacked from, if pulled. */
  compressedDigest?: string;
  compressedSize?: number;
  mediaType?: string;
  added: string;
}

interface ImagesFile {
  images: ImageRecord[];
}

function hexOf(digest: string): string {
  if (!/^sha256:[a-f0-9]{64}$/.test(digest)) throw new TspodError(`invalid digest "${digest}"`);
  return digest.slice(7);
}

export class Store {
  readonly root: string;
  private lockDepth = 0;
  private heldLock: Lock | undefined;
  private waiting: Promise<void> | undefined;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** Opens the store, creating its layout on first use. */
  static open(root: string): Store {
    const s = new Store(root);
    s.ensureLayout();
    return s;
  }

  ensureLayout(): void {
    const marker = path.join(this.root, 'store.json');
    if (fs.existsSync(marker)) {
      const v = readJson<{ version?: number }>(marker, {}).version;
      if (v !== STORE_VERSION) throw new TspodError(`store ${this.root} has version ${v}, this tspod reads version ${STORE_VERSION}`);
      return;
    }
    for (const d of ['blobs/sha256', 'layers', 'locks', 'tmp', 'containers', 'names']) mkdirp(path.join(this.root, d));
    writeJsonAtomic(marker, { version: STORE_VERSION });
  }

  // -------------------------------------------------------------------------------------------
  // Paths

  get imagesFile(): string {
    return path.join(this.root, 'images.json');
  }
  blobPath(digest: string): string {
    return path.join(this.root, 'blobs', 'sha256', hexOf(digest));
  }
  layerPath(diffId: string): string {
    return path.join(this.root, 'layers', hexOf(diffId));
  }
  layerDiffPath(diffId: string): string {
    return path.join(this.layerPath(diffId), 'diff');
  }
  get tmpDir(): string {
    return path.join(this.root, 'tmp');
  }
  get containersDir(): string {
    return path.join(this.root, 'containers');
  }

  // -------------------------------------------------------------------------------------------
  // Locking

  /**
   * Runs fn holding the store-wide lock. Re-entrant within this process (calls nest and share
   * one lock), serialised against every other tspod process by flock.
   */
  async withLock<T>(fn: () => Promise<T> | T): Promise<T> {
    if (this.lockDepth > 0) {
      this.lockDepth++;
      try {
        return await fn();
      } finally {
        this.lockDepth--;
      }
    }
    while (this.waiting) await this.waiting;
    let done!: () => void;
    this.waiting = new Promise((r) => (done = r));
    try {
      const { lockFile } = await import('../helper');
      this.heldLock = await lockFile(path.join(this.root, 'storage.lock'));
      this.lockDepth = 1;
      try {
        return await fn();
      } finally {
        this.lockDepth = 0;
        this.heldLock.release();
        this.heldLock = undefined;
      }
    } finally {
      this.waiting = undefined;
      done();
    }
  }

  /** The lock that serialises unpacking of one layer across processes. */
  lockLayer(diffId: string): Promise<Lock> {
    // The helper (child_process, crypto) loads only for commands that change the store.
    return import('../helper').then(({ lockFile }) => lockFile(path.join(this.root, 'locks', `layer-${hexOf(diffId)}.lock`)));
  }

  private assertLocked(what: string): void {
    if (this.lockDepth === 0) throw new Error(`internal: ${what} without the store lock`);
  }

  // -------------------------------------------------------------------------------------------
  // Images

  /** All image records. Readers need no lock: images.json is only ever replaced by rename. */
  images(): ImageRecord[] {
    try {
      return readJson<ImagesFile>(this.imagesFile, { images: [] }).images;
    } catch (err) {
      throw new TspodError(`reading ${this.imagesFile}: ${(err as Error).message}`);
    }
  }

  /** Replaces the image records. Caller holds the lock. */
  saveImages(images: ImageRecord[]): void {
    this.assertLocked('saving images');
    writeJsonAtomic(this.imagesFile, { images } satisfies ImagesFile);
  }

  // -------------------------------------------------------------------------------------------
  // Blobs

  hasBlob(digest: string): boolean {
    return fs.existsSync(this.blobPath(digest));
  }

  /** Stores a small blob after checking its digest. */
  putBlob(digest: string, data: Buffer): void {
    const { createHash } = require('node:crypto') as typeof import('node:crypto');
    const actual = 'sha256:' + createHash('sha256').update(data).digest('hex');
    if (actual !== digest) throw new TspodError(`blob ${digest}: content has digest ${actual}`);
    const file = this.blobPath(digest);
    if (!fs.existsSync(file)) writeFileAtomic(file, data, 0o644);
  }

  /** Removes a blob (caller holds the lock); a missing one is fine. */
  removeBlob(digest: string): void {
    this.assertLocked('removing blobs');
    fs.rmSync(this.blobPath(digest), { force: true });
  }

  /** All blobs present, by digest. */
  blobDigests(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(this.root, 'blobs', 'sha256'));
    } catch {
      return [];
    }
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => 'sha256:' + n);
  }

  getBlob(digest: string): Buffer {
    try {
      return fs.readFileSync(this.blobPath(digest));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new TspodError(`blob ${digest} is missing from the store ${this.root}`);
      throw err;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Layers

  hasLayer(diffId: string): boolean {
    return fs.existsSync(path.join(this.layerPath(diffId), 'layer.json'));
  }

  layer(diffId: string): LayerRecord | undefined {
    return readJson<LayerRecord | undefined>(path.join(this.layerPath(diffId), 'layer.json'), undefined);
  }

  /** All layers present, by diff_id. */
  layerIds(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(this.root, 'layers'));
    } catch {
      return [];
    }
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => 'sha256:' + n);
  }

  /**
   * Moves an unpacked layer from its staging directory (holding `diff/`) into place. The caller
   * holds the layer's lock; layer.json is written last inside the staging directory, so a layer
   * directory without it is never seen as present.
   */
  commitLayer(staging: string, record: LayerRecord): void {
    writeJsonAtomic(path.join(staging, 'layer.json'), record);
    const target = this.layerPath(record.diffId);
    try {
      fs.renameSync(staging, target);
    } catch (err) {
      const code = errnoCode(err);
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      // A leftover without layer.json (a crash between rename and write cannot happen, but an
      // older broken copy can): move it aside and retry once.
      const aside = this.newTempPath('stale');
      fs.renameSync(target, aside);
      fs.renameSync(staging, target);
    }
    fsyncDir(path.dirname(target));
  }

  /** Moves layers out of the store (under the lock) and returns staging paths to delete. */
  detachLayers(diffIds: string[]): string[] {
    this.assertLocked('removing layers');
    const out: string[] = [];
    for (const id of diffIds) {
      const dir = this.layerPath(id);
      if (!fs.existsSync(dir)) continue;
      const aside = this.newTempPath('rm');
      fs.renameSync(dir, aside);
      out.push(aside);
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Temporary space

  /** A fresh, empty staging directory owned by this process. */
  newTempDir(tag = 'tmp'): string {
    const dir = this.newTempPath(tag);
    fs.mkdirSync(dir, { mode: 0o700 });
    return dir;
  }

  private newTempPath(tag: string): string {
    return path.join(this.tmpDir, `${process.pid}-${randomHex8()}-${tag}`);
  }

  /** Removes staging entries left by processes that no longer exist. */
  async cleanupTemp(): Promise<void> {
    let names: string[];
    try {
      names = fs.readdirSync(this.tmpDir);
    } catch {
      return;
    }
    const stale = names
      .filter((n) => {
        const pid = tempOwnerPid(n);
        return pid !== undefined && pid !== process.pid && !pidAlive(pid);
      })
      .map((n) => path.join(this.tmpDir, n));
    if (stale.length === 0) return;
    log.debug(`removing ${stale.length} stale temporary entries`);
    try {
      const { removeTrees } = await import('../helper');
      await removeTrees(stale);
    } catch (err) {
      log.warn(`cleaning up ${this.tmpDir}: ${(err as Error).message}`);
    }
  }
}
