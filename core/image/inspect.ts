// `image inspect`: docker-compatible JSON with podman's field names and order.

import { parseReference, repository } from '../reference';
import type { ImageRecord, Store } from '../store/store';
import { readImageConfig, readManifestType, type ImageRuntimeConfig } from './config';
import { findImage } from './lookup';

export interface ImageInspect {
  Id: string;
  Digest: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  Config: ImageRuntimeConfig;
  Version: string;
  Author: string;
  Architecture: string;
  Os: string;
  Variant?: string;
  Size: number;
  VirtualSize: number;
  GraphDriver: { Name: string; Data: Record<string, string> };
  RootFS: { Type: string; Layers: string[] };
  Labels: Record<string, string> | null;
  Annotations: Record<string, string>;
  ManifestType: string;
  User: string;
  History: unknown[];
  NamesHistory: string[];
}

/** `repo@digest` for every repository the image is named in and every digest it is known by. */
export function repoDigests(image: ImageRecord): string[] {
  const repos = [...new Set(image.names.map((n) => repository(parseReference(n))))].sort();
  const out: string[] = [];
  for (const r of repos) for (const d of image.digests) out.push(`${r}@${d}`);
  return out;
}

/** The tagged names: a name pulled by digest (`repo@sha256:…`) is no tag. */
export function tags(image: ImageRecord): string[] {
  return image.names.filter((n) => parseReference(n).tag !== undefined);
}

const CONFIG_ORDER: Array<keyof ImageRuntimeConfig> = [
  'User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal',
  'ArgsEscaped', 'Healthcheck', 'OnBuild', 'Shell',
];

export function inspectImage(store: Store, image: ImageRecord): ImageInspect {
  const cfg = readImageConfig(store, image);
  const runtime: ImageRuntimeConfig = {};
  const src = cfg.config ?? {};
  // Keys in the image-spec order, empty ones left out as Go's omitempty does.
  for (const k of CONFIG_ORDER) {
    const v = src[k];
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    (runtime as Record<string, unknown>)[k] = v;
  }
  const layerDir = image.layers.length ? store.layerDiffPath(image.layers[image.layers.length - 1]) : '';
  return {
    Id: image.id,
    Digest: image.manifestDigest,
    RepoTags: tags(image),
    RepoDigests: repoDigests(image),
    Parent: '',
    Comment: '',
    Created: cfg.created ?? image.created,
    Config: runtime,
    Version: '',
    Author: cfg.author ?? '',
    Architecture: cfg.architecture ?? '',
    Os: cfg.os ?? '',
    ...(cfg.variant ? { Variant: cfg.variant } : {}),
    Size: image.size,
    VirtualSize: image.size,
    GraphDriver: {
      Name: 'overlay',
      Data: {
        ...(image.layers.length > 1
          ? { LowerDir: image.layers.slice(0, -1).reverse().map((l) => store.layerDiffPath(l)).join(':') }
          : {}),
        UpperDir: layerDir,
      },
    },
    RootFS: { Type: 'layers', Layers: [...image.layers] },
    Labels: src.Labels && Object.keys(src.Labels).length ? src.Labels : null,
    Annotations: {},
    ManifestType: readManifestType(store, image),
    User: src.User ?? '',
    History: cfg.history ?? [],
    NamesHistory: [...image.names].reverse(),
  };
}

/** Inspects each name; unknown ones are reported, the others still printed (as podman does). */
export function inspectImages(store: Store, inputs: string[]): { results: ImageInspect[]; errors: string[] } {
  const images = store.images();
  const results: ImageInspect[] = [];
  const errors: string[] = [];
  for (const input of inputs) {
    const hit = findImage(images, input);
    if (!hit) errors.push(`${input}: image not known`);
    else results.push(inspectImage(store, hit.image));
  }
  return { results, errors };
}
