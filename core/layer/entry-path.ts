// Entry names: lexical cleaning under the layer root and the OCI whiteout convention.
// Cleaning only decides what a name means; containment against symlinks that the layer itself
// plants is the helper's job (it resolves every parent beneath the destination).

/**
 * Cleans a tar name the way umoci and containers/storage do: a leading '/' or './' is dropped,
 * '.' and empty components vanish, '..' removes the component before it. Returns '' for the
 * root itself and undefined for a name that climbs out of the layer (a '..' with nothing left
 * to remove), which is refused rather than clamped at the root.
 */
export function cleanPath(name: string): string | undefined {
  // Fast path: the usual archive name ("usr/lib/x", "./usr/lib/x/") needs no component walk.
  let s = name;
  if (s.startsWith('./')) s = s.slice(2);
  else if (s.startsWith('/')) s = s.replace(/^\/+/, '');
  if (s.endsWith('/')) s = s.replace(/\/+$/, '');
  if (!/(^|\/)\.{0,2}(\/|$)/.test(s)) return s;
  if (s === '') return '';
  const out: string[] = [];
  for (const part of s.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) return undefined;
      out.pop();
    } else {
      out.push(part);
    }
  }
  return out.join('/');
}

export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_META_PREFIX = '.wh..wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';

export type Whiteout =
  | { kind: 'none' }
  /** `dir/.wh.NAME`: remove `path` (dir/NAME) from the layers below. */
  | { kind: 'whiteout'; path: string }
  /** `dir/.wh..wh..opq`: hide everything below `path` (dir) in the layers below. */
  | { kind: 'opaque'; path: string }
  /** aufs bookkeeping (`.wh..wh.plnk` and the like) and anything inside it: not part of the image. */
  | { kind: 'meta' }
  | { kind: 'invalid'; reason: string };

/** Classifies a cleaned path by the whiteout convention of the OCI image spec. */
export function whiteout(path: string): Whiteout {
  if (!path.includes(WHITEOUT_PREFIX)) return { kind: 'none' };
  const slash = path.lastIndexOf('/');
  const dir = slash < 0 ? '' : path.slice(0, slash);
  const base = path.slice(slash + 1);
  for (const part of dir ? dir.split('/') : []) {
    if (part.startsWith(WHITEOUT_META_PREFIX)) return { kind: 'meta' };
    if (part.startsWith(WHITEOUT_PREFIX)) return { kind: 'invalid', reason: 'uses a whiteout name as a directory' };
  }
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: 'none' };
  if (base === WHITEOUT_OPAQUE) return { kind: 'opaque', path: dir };
  if (base.startsWith(WHITEOUT_META_PREFIX)) return { kind: 'meta' };
  const target = base.slice(WHITEOUT_PREFIX.length);
  if (target === '' || target === '.' || target === '..') return { kind: 'invalid', reason: 'is a whiteout of nothing' };
  return { kind: 'whiteout', path: dir ? `${dir}/${target}` : target };
}

/** A binary (latin1) name as text for messages: UTF-8 decoded, quoted and escaped on one line. */
export function showName(name: string): string {
  return JSON.stringify(Buffer.from(name, 'latin1').toString('utf8'));
}
