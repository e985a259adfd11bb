// Distinct small images for the benchmarks that need a store with several images (lifecycle's
// `images`): copies of the busybox fixture whose configs differ by one label, so each has its own
// image ID while all share busybox's one layer. Pushed straight through the registry API of the
// plain-HTTP loopback registry (the layer is mounted across repositories, not uploaded again);
// deterministic, so a second call finds them all present and pushes nothing.

import { createHash } from 'node:crypto';
import { REGISTRY, REGISTRY_HTTP } from './setup';

const SOURCE = 'busybox';
const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
].join(', ');

interface Manifest {
  mediaType?: string;
  config: { mediaType: string; size: number; digest: string };
  layers: { digest: string }[];
}

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

async function request(method: string, url: string, init: { body?: Buffer; headers?: Record<string, string> } = {}): Promise<Response> {
  const res = await fetch(url.startsWith('http') ? url : `${REGISTRY_HTTP}${url}`, { method, body: init.body, headers: init.headers, redirect: 'manual' });
  if (res.status >= 400) throw new Error(`bench variants: ${method} ${url}: ${res.status} ${(await res.text()).slice(0, 200)}`);
  return res;
}

async function uploadBlob(repo: string, data: Buffer, digest: string): Promise<void> {
  if ((await fetch(`${REGISTRY_HTTP}/v2/${repo}/blobs/${digest}`, { method: 'HEAD' })).ok) return;
  const start = await request('POST', `/v2/${repo}/blobs/uploads/`);
  const location = new URL(start.headers.get('location') ?? '', REGISTRY_HTTP);
  location.searchParams.set('digest', digest);
  await request('PUT', location.toString(), { body: data, headers: { 'content-type': 'application/octet-stream' } });
}

async function mountBlob(repo: string, digest: string): Promise<void> {
  const res = await request('POST', `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${SOURCE}`);
  if (res.status === 201) return;
  // The registry declined the mount and opened an upload instead: send the bytes.
  const blob = Buffer.from(await (await request('GET', `/v2/${SOURCE}/blobs/${digest}`)).arrayBuffer());
  const location = new URL(res.headers.get('location') ?? '', REGISTRY_HTTP);
  location.searchParams.set('digest', digest);
  await request('PUT', location.toString(), { body: blob, headers: { 'content-type': 'application/octet-stream' } });
}

/**
 * Makes sure `localhost:5000/bench/variant-1` ... `-count` exist; returns their references.
 * Each is busybox with the label `tspod.bench.variant=N` in its config.
 */
export async function ensureVariants(count: number): Promise<string[]> {
  const got = await request('GET', `/v2/${SOURCE}/manifests/latest`, { headers: { accept: MANIFEST_TYPES } });
  const mediaType = got.headers.get('content-type') ?? MANIFEST_TYPES.split(', ')[0];
  const manifest = (await got.json()) as Manifest;
  const config = (await (await request('GET', `/v2/${SOURCE}/blobs/${manifest.config.digest}`)).json()) as {
    config?: { Labels?: Record<string, string> | null };
  };
  const refs: string[] = [];
  for (let i = 1; i <= count; i++) {
    const repo = `bench/variant-${i}`;
    refs.push(`${REGISTRY}/${repo}:latest`);
    const cfg = structuredClone(config);
    cfg.config = { ...cfg.config, Labels: { ...(cfg.config?.Labels ?? {}), 'tspod.bench.variant': String(i) } };
    const cfgBytes = Buffer.from(JSON.stringify(cfg));
    const cfgDigest = sha256(cfgBytes);
    const m: Manifest = { ...manifest, config: { ...manifest.config, size: cfgBytes.length, digest: cfgDigest } };
    const mBytes = Buffer.from(JSON.stringify(m));
    const head = await fetch(`${REGISTRY_HTTP}/v2/${repo}/manifests/latest`, { method: 'HEAD', headers: { accept: MANIFEST_TYPES } });
    if (head.ok && head.headers.get('docker-content-digest') === sha256(mBytes)) continue;
    for (const layer of manifest.layers) await mountBlob(repo, layer.digest);
    await uploadBlob(repo, cfgBytes, cfgDigest);
    await request('PUT', `/v2/${repo}/manifests/latest`, { body: mBytes, headers: { 'content-type': mediaType } });
  }
  return refs;
}
