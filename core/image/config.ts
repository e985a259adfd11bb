// The OCI image config (image-spec config.md), as stored in blobs/.

import type { ImageRecord, Store } from '../store/store';

export interface ImageRuntimeConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  ArgsEscaped?: boolean;
  Healthcheck?: unknown;
  OnBuild?: string[] | null;
  Shell?: string[];
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture?: string;
  variant?: string;
  os?: string;
  config?: ImageRuntimeConfig;
  rootfs?: { type: string; diff_ids: string[] };
  history?: HistoryEntry[];
}

export function readImageConfig(store: Store, image: ImageRecord): ImageConfig {
  return JSON.parse(store.getBlob('sha256:' + image.id).toString('utf8')) as ImageConfig;
}

export interface ManifestInfo {
  mediaType: string;
}

export function readManifestType(store: Store, image: ImageRecord): string {
  try {
    const m = JSON.parse(store.getBlob(image.manifestDigest).toString('utf8')) as { mediaType?: string; schemaVersion?: number };
    return m.mediaType ?? 'application/vnd.oci.image.manifest.v1+json';
  } catch {
    return '';
  }
}
