// Platforms (os/architecture/variant) in Go's names, as image indexes spell them, and the choice of
// one entry of a Docker manifest list or OCI index for the platform a user wants. Pure functions.

import * as nodeOs from 'node:os';
import { TspodError } from '../errors';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** An entry of a manifest list or index, as far as platform choice is concerned. */
export interface PlatformEntry {
  digest: string;
  mediaType?: string;
  platform?: { os?: string; architecture?: string; variant?: string };
}

/** Node's process.arch -> Go's GOARCH (what registries use). */
const NODE_TO_GO_ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
};

/**
 * The platform of a Node process given its os, arch and (for 32-bit arm) arm_version; split out of
 * hostPlatform() so that the table is testable on any machine.
 */
export function platformOf(nodePlatform: string, nodeArch: string, armVersion?: string | number, littleEndian = true): Platform {
  const goos = nodePlatform === 'win32' ? 'windows' : nodePlatform;
  let architecture = NODE_TO_GO_ARCH[nodeArch] ?? nodeArch;
  if (nodeArch === 'ppc64' && !littleEndian) architecture = 'ppc64';
  if (architecture === 'arm64') return { os: goos, architecture, variant: 'v8' };
  if (architecture === 'arm') {
    const v = Number(armVersion);
    return { os: goos, architecture, variant: v >= 5 && v <= 8 ? `v${v}` : 'v7' };
  }
  return { os: goos, architecture };
}

export function hostPlatform(): Platform {
  const vars = (process.config as { variables?: Record<string, unknown> }).variables ?? {};
  const armVersion = vars.arm_version as string | number | undefined;
  return platformOf(process.platform, process.arch, armVersion, nodeOs.endianness() === 'LE');
}

/** `linux/arm64`, `linux/arm/v7` (the form of podman's --platform). */
export function parsePlatform(s: string): Platform {
  const parts = s.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p.trim() === '' || /\s/.test(p))) {
    throw new TspodError(`invalid platform "${s}": expected OS/ARCH or OS/ARCH/VARIANT, e.g. linux/arm64`);
  }
  const [os, architecture, variant] = parts.map((p) => p.toLowerCase());
  return normalizePlatform(variant === undefined ? { os, architecture } : { os, architecture, variant });
}

/**
 * The platform a pull should choose from --platform, --os, --arch and --variant (podman's rules:
 * --platform wins; the others replace parts of the host's platform). A variant is only kept from
 * the host when the architecture is the host's.
 */
export function platformFromOptions(o: { platform?: string; os?: string; arch?: string; variant?: string }, host: Platform = hostPlatform()): Platform {
  if (o.platform) return parsePlatform(o.platform);
  const architecture = o.arch ? o.arch.toLowerCase() : host.architecture;
  const os = o.os ? o.os.toLowerCase() : host.os;
  const variant = o.variant ?? (architecture === host.architecture ? host.variant : undefined);
  return normalizePlatform(variant ? { os, architecture, variant } : { os, architecture });
}

export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

/**
 * containerd's normalization: architecture aliases (x86_64, aarch64, armhf ...) to Go's names;
 * arm64 "v8" is the same as no variant; arm without a variant is v7; variants are `vN`.
 */
export function normalizePlatform(p: { os?: string; architecture?: string; variant?: string }): Platform {
  const os = (p.os ?? '').toLowerCase();
  let arch = (p.architecture ?? '').toLowerCase();
  let variant = p.variant ? p.variant.toLowerCase() : '';
  if (/^\d$/.test(variant)) variant = `v${variant}`;
  switch (arch) {
    case 'x86_64': case 'x86-64': case 'amd64':
      arch = 'amd64';
      if (variant === 'v1') variant = '';
      break;
    case 'i386': case 'i686': case '386':
      arch = '386';
      break;
    case 'aarch64': case 'arm64':
      arch = 'arm64';
      if (variant === 'v8') variant = '';
      break;
    case 'armhf':
      arch = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      arch = 'arm';
      variant = 'v6';
      break;
    case 'arm':
      if (variant === '') variant = 'v7';
      break;
  }
  return variant ? { os, architecture: arch, variant } : { os, architecture: arch };
}

/**
 * The variants acceptable for a wanted platform, best first: an arm v7 machine runs v7, v6 and v5
 * images; an image without a variant is the last resort everywhere.
 */
function acceptableVariants(want: Platform): string[] {
  const v = want.variant ?? '';
  if (want.architecture === 'arm') {
    const n = Number(v.slice(1)) || 7;
    const out: string[] = [];
    for (let i = n; i >= 5; i--) out.push(`v${i}`);
    out.push('');
    return out;
  }
  return v === '' ? [''] : [v, ''];
}

/** The entries of an index that can run on `want`, best first (stable among equals). */
export function matchingEntries<T extends PlatformEntry>(entries: readonly T[], want: Platform): T[] {
  const w = normalizePlatform(want);
  const variants = acceptableVariants(w);
  const ranked: { e: T; rank: number; i: number }[] = [];
  entries.forEach((e, i) => {
    if (!e.platform) return;
    const p = normalizePlatform(e.platform);
    if (p.os !== w.os || p.architecture !== w.architecture) return;
    // An arm entry that names no variant was normalized to v7 above; treat "no variant given" in
    // the index as acceptable anywhere (the last resort), as containerd does.
    const given = e.platform.variant ? (p.variant ?? '') : '';
    const rank = variants.indexOf(given);
    if (rank >= 0) ranked.push({ e, rank, i });
  });
  ranked.sort((a, b) => a.rank - b.rank || a.i - b.i);
  return ranked.map((r) => r.e);
}

/** The platforms an index offers, for error messages: `linux/amd64, linux/arm64/v8`. */
export function offeredPlatforms(entries: readonly PlatformEntry[]): string[] {
  const seen = new Set<string>();
  for (const e of entries) {
    if (!e.platform || !e.platform.os || !e.platform.architecture) continue;
    if (e.platform.os === 'unknown' || e.platform.architecture === 'unknown') continue; // attestations
    seen.add(formatPlatform({ os: e.platform.os, architecture: e.platform.architecture, variant: e.platform.variant }));
  }
  return [...seen];
}

/** The best entry for `want`, or a TspodError that lists what the index offers. */
export function chooseEntry<T extends PlatformEntry>(entries: readonly T[], want: Platform): T {
  const found = matchingEntries(entries, want)[0];
  if (found) return found;
  const offered = offeredPlatforms(entries);
  throw new TspodError(
    `no image found in manifest list for architecture ${want.architecture}, variant "${want.variant ?? ''}", OS ${want.os}` +
      (offered.length ? ` (the image is available for ${offered.join(', ')}; choose one with --platform)` : ' (the list names no platforms)'),
  );
}
