// login, logout and --get-login, with podman's behaviour and words:
//   login    checks the credentials against the registry (GET /v2/ with them), then stores them
//            in the primary auth file: `Login Succeeded!`, or `logging into "HOST": invalid
//            username/password` when the registry refuses them
//   logout   `Removed login credentials for HOST`, `not logged into HOST` (an error), and with
//            --all `Removed login credentials for all registries`

import { TspodError } from '../errors';
import {
  credentialsKey, Credentials, lookupCredentials, removeAllCredentials, removeCredentials, storeCredentials,
} from './authfile';
import { RegistryError } from './registry-error';
import { RegistryOptions, RepoClient } from './session';

export interface LoginResult {
  /** The key written (`localhost:5001`, or `host/namespace`). */
  key: string;
  authFile: string;
  /** What podman prints. */
  message: string;
}

/**
 * Verifies `creds` against the registry named by `registry` (`host[:port]`, `host/namespace` or an
 * https:// URL) and stores them. Nothing is written when the registry refuses them.
 */
export async function login(registry: string, creds: Credentials, opts: RegistryOptions = {}): Promise<LoginResult> {
  const { key, registry: domain } = credentialsKey(registry);
  if (!creds.username) throw new TspodError('a username is needed to log in (use --username)');
  if (!creds.password) throw new TspodError('a password is needed to log in (use --password or --password-stdin)');
  try {
    // A fresh client: the check must reach the registry, not reuse a token this process holds.
    const client = new RepoClient({ domain, path: '' }, { ...opts, credentials: creds }, 'pull', { noTokenCache: true });
    await client.checkAuth();
  } catch (err) {
    if (err instanceof RegistryError && err.kind === 'unauthorized') {
      throw new TspodError(`logging into "${key}": invalid username/password`, { cause: err });
    }
    throw new TspodError(`authenticating creds for "${key}": ${(err as Error).message}`, { cause: err });
  }
  const authFile = storeCredentials(key, creds, { authFile: opts.authFile, env: opts.env });
  return { key, authFile, message: 'Login Succeeded!' };
}

/** The user name stored for a registry (`login --get-login`); an error when there is none. */
export function getLogin(registry: string, opts: RegistryOptions = {}): string {
  const { key } = credentialsKey(registry);
  const found = lookupCredentials(key, { authFile: opts.authFile, env: opts.env });
  if (!found || !found.credentials.username) throw new TspodError(`not logged into ${key}`);
  return found.credentials.username;
}

/**
 * Removes stored credentials for `registry`, or for all registries when it is undefined, and
 * returns podman's message. Not being logged in is an error, as in podman.
 */
export async function logout(registry: string | undefined, opts: RegistryOptions = {}): Promise<string> {
  const fileOpts = { authFile: opts.authFile, env: opts.env };
  if (registry === undefined) {
    removeAllCredentials(fileOpts);
    return 'Removed login credentials for all registries';
  }
  const { key } = credentialsKey(registry);
  const r = removeCredentials(key, fileOpts);
  if (r.removed) return `Removed login credentials for ${key}`;
  if (r.elsewhere) {
    return `Not logged into ${key} with current tool. Existing credentials were established via docker login. Please use docker logout instead.`;
  }
  throw new TspodError(`not logged into ${key}`);
}
