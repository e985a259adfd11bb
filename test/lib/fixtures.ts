// The facts test/setup/fixtures.sh recorded about the images it pushed (test/.work/fixtures.json).

import * as fs from 'node:fs';
import { FIXTURES_JSON } from './bed';

export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink';

/** One tar member exactly as written into a layer. */
export interface EntryFact {
  name: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size?: number;
  /** Hex sha256 of a file's content. */
  sha256?: string;
  /** Symlink target or hardlink target, as written. */
  link?: string;
}

/** One path of the tree an image's layers yield (with whiteouts applied); paths start with '/'. */
export interface FileFact {
  path: string;
  /** A hardlink appears as 'file' with linkTo naming the path it shares an inode with. */
  type: Exclude<EntryType, 'hardlink'>;
  /** Permission bits including setuid/setgid/sticky (symlinks: 0o777). */
  mode: number;
  uid: number;
  gid: number;
  size?: number;
  sha256?: string;
  target?: string;
  linkTo?: string;
}

export interface LayerFact {
  digest: string;
  size: number;
  mediaType: string;
  diffId: string;
  compression: 'gzip' | 'zstd' | 'none';
  /** Present for the layered and hostile images. */
  entries?: EntryFact[];
}

export interface ImageConfigFact {
  Env?: string[];
  Cmd?: string[];
  Entrypoint?: string[];
  WorkingDir?: string;
  Labels?: Record<string, string>;
  ExposedPorts?: Record<string, object>;
  Volumes?: Record<string, object>;
  StopSignal?: string;
  User?: string;
}

export interface HistoryFact {
  created: string;
  created_by: string;
  empty_layer?: boolean;
}

/** A single-platform image (also each entry of an index). */
export interface ManifestFact {
  mediaType: string;
  manifestDigest: string;
  manifestSize: number;
  configDigest: string;
  /** configDigest without 'sha256:', what `images` shows as IMAGE ID (first 12 characters). */
  imageId: string;
  architecture: string;
  os: string;
  config: ImageConfigFact;
  diffIds: string[];
  history: HistoryFact[];
  layers: LayerFact[];
  files?: FileFact[];
  platform?: { architecture: string; os: string; variant?: string };
}

export interface Named {
  /** localhost:5000/NAME:latest */
  ref: string;
  repository: string;
  tag: string;
}

export interface ImageFact extends ManifestFact, Named {
  /** busybox and zstd: the applet names linked to /bin/busybox. */
  applets?: string[];
  /** layered: paths that whiteouts and the opaque directory removed. */
  absent?: string[];
  author?: string;
  /** probe: sha256 (hex) of /probe, built from test/setup/probe/probe.c. */
  probeSha256?: string;
  /** hostile images: what the case is about. */
  description?: string;
  /** hostile/bad-digest: what the registry serves instead of the layer's real bytes. */
  corrupt?: { layerDigest: string; servedSha256: string; servedSize: number; servedFile: string };
}

export interface IndexFact extends Named {
  mediaType: string;
  manifestDigest: string;
  manifestSize: number;
  manifests: ManifestFact[];
}

export interface CopyFact extends Named {
  registry: string;
  auth: 'basic' | 'token';
  manifestDigest: string;
  /** False when that registry was not up when fixtures.sh ran. */
  available: boolean;
}

export type HostileName =
  | 'dotdot'
  | 'absolute'
  | 'symlink-escape'
  | 'hardlink-escape'
  | 'root-not-dir'
  | 'bad-digest'
  | 'bad-diffid';

export const HOSTILE_NAMES: HostileName[] = [
  'dotdot',
  'absolute',
  'symlink-escape',
  'hardlink-escape',
  'root-not-dir',
  'bad-digest',
  'bad-diffid',
];

export type Images = { busybox: ImageFact; layered: ImageFact; zstd: ImageFact; multiarch: IndexFact; probe: ImageFact } & {
  [K in `hostile/${HostileName}`]: ImageFact;
};

export interface Fixtures {
  version: 1;
  registry: string;
  images: Images;
  copies: CopyFact[];
}

let cached: Fixtures | undefined;

export function fixtures(): Fixtures {
  if (!cached) {
    let text: string;
    try {
      text = fs.readFileSync(FIXTURES_JSON, 'utf8');
    } catch {
      throw new Error(`${FIXTURES_JSON} is missing: run sh test/setup/up.sh as root (npm test does)`);
    }
    cached = JSON.parse(text) as Fixtures;
  }
  return cached;
}

/** The fact about one path of a fixture's tree; throws when the fixture has no such path. */
export function fileFact(image: ManifestFact, p: string): FileFact {
  const f = image.files?.find((x) => x.path === p);
  if (!f) throw new Error(`fixture ${image.manifestDigest} has no ${p}`);
  return f;
}
