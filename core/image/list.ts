// `images`: one row per name of each image (an image without names is one `<none>` row), with
// podman's filters and sort orders.

import { labelFilter } from '../labels';
import { TspodError } from '../errors';
import { parseReference, repository } from '../reference';
import type { ImageRecord, Store } from '../store/store';
import { readImageConfig } from './config';
import { repoDigests } from './inspect';
import { findImage } from './lookup';

export interface ImageRow {
  image: ImageRecord;
  /** `localhost:5000/busybox` or `<none>` */
  repository: string;
  /** `latest` or `<none>` */
  tag: string;
  labels: Record<string, string> | null;
  created: Date;
  /** Containers using the image. */
  containers: number;
}

export interface ListOptions {
  all?: boolean;
  filters?: string[];
  sort?: 'created' | 'id' | 'repository' | 'size' | 'tag';
  /** Counts containers per image ID (containers come from the container store). */
  containerCount?: (imageId: string) => number;
}

type Pred = (row: ImageRow) => boolean;

function globToRegExp(glob: string): RegExp {
  const esc = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '.');
  return new RegExp(`^${esc}$`);
}

function parseFilters(store: Store, images: ImageRecord[], filters: string[]): Pred[] {
  const preds: Pred[] = [];
  const refPreds: Pred[] = [];
  for (const f of filters) {
    const eq = f.indexOf('=');
    if (eq < 0) throw new TspodError(`invalid image filter "${f}": need KEY=VALUE`);
    const key = f.slice(0, eq);
    const value = f.slice(eq + 1);
    switch (key) {
      case 'reference': {
        // podman matches the pattern against the full name, the familiar name, and with a tag
        const re = globToRegExp(value.includes(':') || value.includes('@') ? value : `${value}`);
        const reTagged = globToRegExp(value.includes(':') ? value : `${value}:*`);
        refPreds.push((r) => {
          if (r.repository === '<none>') return false;
          const full = `${r.repository}:${r.tag}`;
          const short = full.replace(/^docker\.io\/(library\/)?/, '').replace(/^localhost\//, '');
          const last = full.slice(full.lastIndexOf('/') + 1);
          return [full, short, last, r.repository].some((n) => re.test(n) || reTagged.test(n));
        });
        break;
      }
      case 'dangling':
        if (value !== 'true' && value !== 'false') throw new TspodError(`invalid filter "${f}": dangling takes true or false`);
        preds.push((r) => (r.image.names.length === 0) === (value === 'true'));
        break;
      case 'label': {
        const matches = labelFilter(value);
        preds.push((r) => matches(r.labels));
        break;
      }
      case 'before':
      case 'since': {
        const hit = findImage(images, value);
        if (!hit) throw new TspodError(`${value}: image not known`);
        const t = Date.parse(hit.image.created);
        preds.push((r) => (key === 'before' ? r.created.getTime() < t : r.created.getTime() > t));
        break;
      }
      case 'id':
        preds.push((r) => r.image.id.startsWith(value.replace(/^sha256:/, '')));
        break;
      case 'readonly':
        preds.push(() => value === 'false');
        break;
      case 'containers':
        preds.push((r) => (r.containers > 0) === (value === 'true'));
        break;
      default:
        throw new TspodError(`invalid image filter "${key}": use reference, dangling, label, before, since, id, containers`);
    }
  }
  // Several reference filters match any of them, as in podman.
  if (refPreds.length) preds.push((r) => refPreds.some((p) => p(r)));
  void store;
  return preds;
}

export function listImages(store: Store, opts: ListOptions = {}): ImageRow[] {
  const images = store.images();
  const rows: ImageRow[] = [];
  for (const image of images) {
    let labels: Record<string, string> | null = null;
    try {
      labels = readImageConfig(store, image).config?.Labels ?? null;
    } catch {
      labels = null;
    }
    const base = { image, labels, created: new Date(image.created), containers: opts.containerCount?.(image.id) ?? 0 };
    if (image.names.length === 0) {
      rows.push({ ...base, repository: '<none>', tag: '<none>' });
      continue;
    }
    // A name pulled by digest (`repo@sha256:…`) shows as `repo <none>`, and only when the image
    // has no tagged name, as in podman.
    const refs = image.names.map((n) => parseReference(n));
    const tagged = refs.filter((r) => r.tag !== undefined);
    for (const ref of tagged.length ? tagged : refs.slice(0, 1)) {
      rows.push({ ...base, repository: repository(ref), tag: ref.tag ?? '<none>' });
    }
  }
  const preds = parseFilters(store, images, opts.filters ?? []);
  const kept = rows.filter((r) => preds.every((p) => p(r)));
  const sort = opts.sort ?? 'created';
  // Strings compare byte by byte as in podman (Go's <), not by locale: `localhost/x` < `localhost:5000/x`.
  const str = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const cmp: Record<string, (a: ImageRow, b: ImageRow) => number> = {
    created: (a, b) => b.created.getTime() - a.created.getTime(),
    id: (a, b) => str(a.image.id, b.image.id),
    repository: (a, b) => str(a.repository, b.repository),
    size: (a, b) => a.image.size - b.image.size,
    tag: (a, b) => str(a.tag, b.tag),
  };
  if (!cmp[sort]) throw new TspodError(`invalid sort "${sort}": use created, id, repository, size or tag`);
  // Stable: rows of one image keep the order of its names.
  return kept.map((r, i) => ({ r, i })).sort((a, b) => cmp[sort](a.r, b.r) || a.i - b.i).map((x) => x.r);
}

export { repoDigests };
