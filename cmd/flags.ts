// Flags shared by several verbs, bound once here.

import { Option, UsageError } from 'clipanion';
import type { RegistryOptions } from '../core/registry';
import { VERSION } from '../core/version';

/** --tls-verify, --authfile, --cert-dir, --creds: every verb that talks to a registry binds these. */
export const registryFlag = {
  tlsVerify: () =>
    Option.Boolean('--tls-verify', { description: 'require HTTPS and verify certificates when contacting registries (default true)' }),
  authfile: () => Option.String('--authfile', { description: 'path of the authentication file' }),
  certDir: () => Option.String('--cert-dir', { description: 'use certificates at the specified path to access the registry' }),
  creds: () => Option.String('--creds', { description: 'use `USERNAME[:PASSWORD]` for accessing the registry' }),
};

export function toRegistryOptions(
  f: { tlsVerify?: boolean; authfile?: string; certDir?: string; creds?: string },
  env: NodeJS.ProcessEnv,
): RegistryOptions {
  const opts: RegistryOptions = { env, userAgent: `tspod/${VERSION}` };
  if (f.tlsVerify !== undefined) opts.tlsVerify = f.tlsVerify;
  if (f.authfile) opts.authFile = f.authfile;
  if (f.certDir) opts.certDir = f.certDir;
  if (f.creds !== undefined) {
    const i = f.creds.indexOf(':');
    if (i === 0 || f.creds === '') throw new UsageError('--creds takes USERNAME[:PASSWORD]');
    opts.credentials = i < 0 ? { username: f.creds, password: '' } : { username: f.creds.slice(0, i), password: f.creds.slice(i + 1) };
  }
  return opts;
}
