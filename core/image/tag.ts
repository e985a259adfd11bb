// `tag` and `untag`. New names without a registry go under localhost/, as podman does.

import { TspodError } from '../errors';
import { formatReference, hasDomain, parseReference, DEFAULT_DOMAIN, LOCAL_DOMAIN } from '../reference';
import type { Store } from '../store/store';
import { requireImage } from './lookup';
import { addName, removeName } from './records';

/** The full tagged name a user's new name stands for: `mybox:dev` -> `localhost/mybox:dev`. */
export function localName(input: string): string {
  const ref = parseReference(input, hasDomain(input) ? DEFAULT_DOMAIN : LOCAL_DOMAIN);
  if (ref.digest !== undefined) throw new TspodError(`${input}: a tag cannot contain a digest`);
  return formatReference(ref);
}

export async function tagImage(store: Store, source: string, targets: string[]): Promise<void> {
  const names = targets.map(localName);
  await store.withLock(() => {
    const { image } = requireImage(store.images(), source);
    for (const n of names) addName(store, image.id, n);
  });
}

/** Removes the given names (all names when none are given); the image itself stays. */
export async function untagImage(store: Store, source: string, targets: string[]): Promise<string[]> {
  return store.withLock(() => {
    const { image } = requireImage(store.images(), source);
    const names = targets.length ? targets.map(localName) : [...image.names];
    for (const n of names) {
      if (!removeName(store, image.id, n)) throw new TspodError(`${n}: tag not known`);
    }
    return names;
  });
}
