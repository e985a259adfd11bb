// Image references, parsed and normalized as docker's distribution/reference does:
//   busybox                      -> docker.io/library/busybox:latest
//   localhost:5000/app:1.2       -> localhost:5000/app:1.2
//   app@sha256:<64 hex>          -> docker.io/library/app@sha256:...
//   name:tag@sha256:<64 hex>     -> both kept; the digest decides what is pulled
// Pure functions, no I/O.

import { TspodError } from './errors';

export const DEFAULT_DOMAIN = 'docker.io';
export const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
export const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
/** Where podman puts short names that are given a local name (`tag`, `build -t`). */
export const LOCAL_DOMAIN = 'localhost';

const NAME_TOTAL_MAX = 255;
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_LABEL = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_LABEL}(?:\\.${DOMAIN_LABEL})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const SHA256_HEX = /^[a-f0-9]{64}$/;

export interface Reference {
  /** Registry host, with port if any: `docker.io`, `localhost:5000`. */
  domain: string;
  /** Repository path within the registry: `library/busybox`. */
  path: string;
  /** Tag, if given or defaulted (undefined when only a digest was given). */
  tag?: string;
  /** `sha256:<hex>` if given. */
  digest?: string;
}

export function badReference(input: string, why: string): TspodError {
  return new TspodError(`invalid reference format "${input}": ${why}`);
}

/**
 * Parses and normalizes a reference. `defaultDomain` is where a name without a registry goes:
 * docker.io for pulls, `localhost` for names given to local images (as podman does).
 * A missing tag becomes `latest` unless a digest is given.
 */
export function parseReference(input: string, defaultDomain: string = DEFAULT_DOMAIN): Reference {
  if (input.length === 0) throw badReference(input, 'empty name');
  if (/\s/.test(input)) throw badReference(input, 'whitespace is not allowed');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw badReference(input, `invalid digest "${digest}"`);
    const [alg, hex] = digest.split(':');
    if (alg === 'sha256' && !SHA256_HEX.test(hex)) throw badReference(input, 'a sha256 digest has 64 lowercase hex digits');
    if (alg !== 'sha256' && alg !== 'sha512') throw badReference(input, `unsupported digest algorithm "${alg}"`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw badReference(input, `invalid tag "${tag}"`);
  }
  if (rest.length === 0) throw badReference(input, 'empty repository name');

  let domain: string;
  let path: string;
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())) {
    domain = first;
    path = rest.slice(slash + 1);
    if (!DOMAIN.test(domain)) throw badReference(input, `invalid registry "${domain}"`);
  } else {
    domain = defaultDomain;
    path = rest;
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (path !== path.toLowerCase()) throw badReference(input, 'repository name must be lowercase');
  for (const part of path.split('/')) {
    if (!COMPONENT.test(part)) throw badReference(input, `invalid repository name component "${part}"`);
  }
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = OFFICIAL_REPO_PREFIX + path;
  if (domain.length + 1 + path.length > NAME_TOTAL_MAX) throw badReference(input, `repository name longer than ${NAME_TOTAL_MAX} characters`);
  if (tag === undefined && digest === undefined) tag = DEFAULT_TAG;
  return { domain, path, tag, digest };
}

/** True when the input names its registry (`localhost/x`, `quay.io/x`), false for `busybox`, `user/app`. */
export function hasDomain(input: string): boolean {
  const slash = input.indexOf('/');
  if (slash < 0) return false;
  const first = input.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase();
}

/** `docker.io/library/busybox` */
export function repository(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** `docker.io/library/busybox:latest`, `x@sha256:..`, or `x:tag@sha256:..` */
export function formatReference(ref: Reference): string {
  let s = repository(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** The name with its tag only (`repo:tag`), or undefined when the reference has no tag. */
export function taggedName(ref: Reference): string | undefined {
  return ref.tag === undefined ? undefined : `${repository(ref)}:${ref.tag}`;
}

/** How docker shortens names for display: `busybox` rather than `docker.io/library/busybox`. */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return repository(ref);
  return ref.path.startsWith(OFFICIAL_REPO_PREFIX) ? ref.path.slice(OFFICIAL_REPO_PREFIX.length) : ref.path;
}

/** The registry's API host: docker.io is served at registry-1.docker.io. */
export function registryHost(domain: string): string {
  return domain === DEFAULT_DOMAIN ? 'registry-1.docker.io' : domain;
}

export function isSha256Digest(s: string): boolean {
  return s.startsWith('sha256:') && SHA256_HEX.test(s.slice(7));
}

/** A full or abbreviated image or container ID: lowercase hex, at least 3 digits (podman's rule). */
export function looksLikeId(s: string): boolean {
  const hex = s.startsWith('sha256:') ? s.slice(7) : s;
  return /^[a-f0-9]{3,64}$/.test(hex);
}
