// What `images` shows: the template rows (podman's image reporter fields) and the JSON entries.

import { displaySize, timeAgo, Timestamp } from '../format';
import type { Store } from '../store/store';
import { repoDigests, tags } from './inspect';
import type { ImageRow } from './list';

export function imageRows(rows: ImageRow[], opts: { noTrunc?: boolean }) {
  const now = Date.now();
  return rows.map((r) => {
    const created = new Timestamp(r.image.created);
    const ago = timeAgo(created, now);
    return {
      ID: opts.noTrunc ? `sha256:${r.image.id}` : r.image.id.slice(0, 12),
      Id: r.image.id,
      Repository: r.repository,
      Tag: r.tag,
      Digest: r.image.manifestDigest,
      Digests: [...r.image.digests],
      Created: ago,
      CreatedSince: ago,
      CreatedAt: created,
      CreatedTime: created,
      Size: displaySize(r.image.size),
      VirtualSize: displaySize(r.image.size),
      SharedSize: displaySize(0),
      Labels: r.labels ?? {},
      Names: [...r.image.names],
      RepoTags: tags(r.image),
      RepoDigests: repoDigests(r.image),
      Containers: r.containers,
      Dangling: r.image.names.length === 0,
      ReadOnly: false,
      IsReadOnly: false,
      History: [...r.image.names].reverse().join(', '),
      ParentId: '',
    };
  });
}

/** `images --format json`: one entry per image, podman's fields. */
export function imageJson(store: Store, rows: ImageRow[]) {
  void store;
  const seen = new Set<string>();
  const out = [];
  for (const r of rows) {
    if (seen.has(r.image.id)) continue;
    seen.add(r.image.id);
    const created = Date.parse(r.image.created);
    out.push({
      Id: r.image.id,
      ParentId: '',
      RepoTags: tags(r.image).length ? tags(r.image) : null,
      RepoDigests: repoDigests(r.image),
      Size: r.image.size,
      SharedSize: 0,
      VirtualSize: r.image.size,
      Labels: r.labels,
      Containers: r.containers,
      Names: r.image.names.length ? [...r.image.names] : null,
      Digest: r.image.manifestDigest,
      History: r.image.names.length ? [...r.image.names].reverse() : null,
      Created: Math.floor(created / 1000),
      CreatedAt: new Date(Math.floor(created / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
    });
  }
  return out;
}
