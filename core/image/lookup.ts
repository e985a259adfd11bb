// Finding a local image by what a user types, as podman does: a full or abbreviated ID, a full
// name, a name with a digest, or a short name (`busybox`, `mybox:dev`) that matches a local
// image under localhost/, docker.io, or any registry whose repository ends with that path.

import { TspodError } from '../errors';
import { parseReference, hasDomain, repository, looksLikeId, LOCAL_DOMAIN, DEFAULT_DOMAIN, type Reference } from '../reference';
import type { ImageRecord } from '../store/store';

export interface LookupResult {
  image: ImageRecord;
  /** The name that matched, if the input was a name. */
  name?: string;
}

function normId(s: string): string {
  return s.startsWith('sha256:') ? s.slice(7) : s;
}

/** The image for `input`, or undefined. Throws for an ambiguous abbreviated ID. */
export function findImage(images: ImageRecord[], input: string): LookupResult | undefined {
  const id = normId(input);
  if (/^[a-f0-9]{64}$/.test(id)) {
    const image = images.find((i) => i.id === id);
    if (image) return { image };
  }
  const byName = findByName(images, input);
  if (byName) return byName;
  if (looksLikeId(input)) {
    const matches = images.filter((i) => i.id.startsWith(id));
    if (matches.length === 1) return { image: matches[0] };
    if (matches.length > 1) throw new TspodError(`image ID prefix "${input}" is ambiguous: ${matches.length} images match`);
  }
  return undefined;
}

function findByName(images: ImageRecord[], input: string): LookupResult | undefined {
  let ref: Reference;
  try {
    ref = parseReference(input, hasDomain(input) ? DEFAULT_DOMAIN : LOCAL_DOMAIN);
  } catch {
    return undefined;
  }
  const candidates: Reference[] = [ref];
  if (!hasDomain(input)) {
    candidates.push(parseReference(input, DEFAULT_DOMAIN));
  }
  for (const c of candidates) {
    const hit = matchExact(images, c);
    if (hit) return hit;
  }
  if (hasDomain(input)) return undefined;
  // A short name matches any registry's repository ending in that path: `busybox` finds
  // `localhost:5000/busybox:latest`. The newest such image wins.
  const suffix = '/' + ref.path;
  const sorted = [...images].sort((a, b) => b.added.localeCompare(a.added));
  for (const image of sorted) {
    for (const name of image.names) {
      const r = parseReference(name);
      if (!repository(r).endsWith(suffix) && repository(r) !== `${DEFAULT_DOMAIN}/library/${ref.path}`) continue;
      if (ref.digest !== undefined ? image.digests.includes(ref.digest) : r.tag === ref.tag) return { image, name };
    }
  }
  return undefined;
}

function matchExact(images: ImageRecord[], ref: Reference): LookupResult | undefined {
  const repo = repository(ref);
  const digest = ref.digest;
  if (digest === undefined) {
    const want = `${repo}:${ref.tag}`;
    const image = images.find((i) => i.names.includes(want));
    return image ? { image, name: want } : undefined;
  }
  // A digest names the content; the repository must still be one the image is known by. An index
  // digest is shared by every platform's image pulled from it: a named image wins over one that
  // lost its name to a later pull.
  const known = images.filter((i) => i.digests.includes(digest));
  for (const image of known) {
    const name =
      image.names.find((n) => n === `${repo}@${digest}`) ?? image.names.find((n) => repository(parseReference(n)) === repo);
    if (name) return { image, name };
  }
  const nameless = known.find((i) => i.names.length === 0);
  return nameless ? { image: nameless } : undefined;
}

/** Like findImage, but a missing image is podman's error. */
export function requireImage(images: ImageRecord[], input: string): LookupResult {
  const r = findImage(images, input);
  if (!r) throw new TspodError(`${input}: image not known`);
  return r;
}
