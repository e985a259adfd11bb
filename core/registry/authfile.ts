// Registry credentials in containers-auth.json(5) files, as podman keeps them:
//   {"auths": {"localhost:5001": {"auth": "<base64 of user:password>"}}}
// Where:
//   --authfile / $REGISTRY_AUTH_FILE   the only file read and written when given
//   otherwise, read in order           $XDG_RUNTIME_DIR/containers/auth.json (the one written),
//                                      $XDG_CONFIG_HOME/containers/auth.json,
//                                      $DOCKER_CONFIG/config.json or ~/.docker/config.json,
//                                      ~/.dockercfg (docker's legacy format, no "auths" level)
// Keys are `host[:port]` or `host[:port]/namespace/repo` (the most specific key wins); keys that
// docker wrote as URLs (`https://index.docker.io/v1/`) match their host.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { TspodError } from '../errors';
import { mkdirp, writeFileAtomic } from '../fsutil';
import { log } from '../log';
import { configHome, Env, homeDir, runtimeDir } from '../paths';

export interface Credentials {
  username: string;
  password: string;
}

export interface AuthFileOptions {
  /** podman's --authfile. */
  authFile?: string;
  env?: Env;
}

interface AuthFilePath {
  path: string;
  /** ~/.dockercfg keeps the entries at the top level. */
  legacy: boolean;
}

interface AuthEntry {
  auth?: string;
  identitytoken?: string;
  [k: string]: unknown;
}

interface AuthFileContents {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [k: string]: unknown;
}

/** The file that login writes and logout edits. */
export function primaryAuthFile(opts: AuthFileOptions = {}): string {
  const env = opts.env ?? process.env;
  if (opts.authFile) return opts.authFile;
  if (env.REGISTRY_AUTH_FILE) return env.REGISTRY_AUTH_FILE;
  return path.join(runtimeDir(env), 'containers', 'auth.json');
}

/** The files searched for credentials, in order. */
export function authFilePaths(opts: AuthFileOptions = {}): AuthFilePath[] {
  const env = opts.env ?? process.env;
  if (opts.authFile || env.REGISTRY_AUTH_FILE) return [{ path: primaryAuthFile(opts), legacy: false }];
  const paths: AuthFilePath[] = [];
  try {
    paths.push({ path: primaryAuthFile(opts), legacy: false });
  } catch (err) {
    // No usable runtime directory: the other files may still hold credentials.
    log.debug(`no runtime auth file: ${(err as Error).message}`);
  }
  paths.push({ path: path.join(configHome(env), 'containers', 'auth.json'), legacy: false });
  const dockerDir = env.DOCKER_CONFIG || path.join(homeDir(env), '.docker');
  paths.push({ path: path.join(dockerDir, 'config.json'), legacy: false });
  paths.push({ path: path.join(homeDir(env), '.dockercfg'), legacy: true });
  return paths;
}

/** The hosts docker.io is known by all mean the same registry. */
function normalizeRegistry(host: string): string {
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

/** `https://index.docker.io/v1/` -> `docker.io`; other keys stay (apart from the docker.io aliases). */
export function normalizeAuthKey(key: string): string {
  const m = /^https?:\/\/([^/]*)/.exec(key);
  return normalizeRegistry(m ? m[1] : key);
}

/**
 * The key a login or logout argument stands for, and its registry: a URL is reduced to its
 * host[:port]; `host/ns/repo` keeps its path (credentials for one namespace).
 */
export function credentialsKey(arg: string): { key: string; registry: string } {
  let key = arg.trim();
  const url = /^https?:\/\/([^/?#]+)/.exec(key);
  if (url) key = url[1];
  key = key.replace(/\/+$/, '');
  if (key === '') throw new TspodError(`invalid registry "${arg}": it is empty`);
  const slash = key.indexOf('/');
  const registry = slash < 0 ? key : key.slice(0, slash);
  if (!/^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::\d+)?$/.test(registry)) {
    throw new TspodError(`invalid registry "${arg}": expected HOST[:PORT] or HOST[:PORT]/NAMESPACE`);
  }
  if (slash >= 0) {
    const repo = key.slice(slash + 1);
    if (/[:@]/.test(repo)) throw new TspodError(`invalid registry "${arg}": a credentials key names no tag or digest`);
    if (!repo.split('/').every((c) => /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/.test(c))) {
      throw new TspodError(`invalid registry "${arg}": invalid repository path "${repo}"`);
    }
  }
  return { key, registry };
}

function readAuthFile(file: string): AuthFileContents | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new TspodError(`reading JSON file "${file}": ${(err as Error).message}`, { cause: err });
  }
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new TspodError(`reading JSON file "${file}": ${(err as Error).message}`, { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new TspodError(`reading JSON file "${file}": expected a JSON object`);
  }
  return parsed as AuthFileContents;
}

function entriesOf(contents: AuthFileContents, legacy: boolean): Record<string, AuthEntry> {
  const auths = legacy ? contents : contents.auths;
  if (auths === undefined || auths === null) return {};
  if (typeof auths !== 'object' || Array.isArray(auths)) return {};
  return auths as Record<string, AuthEntry>;
}

function decodeAuth(file: string, key: string, entry: AuthEntry): Credentials | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  if (typeof entry.auth !== 'string' || entry.auth === '') {
    if (entry.identitytoken) log.debug(`${file}: identity token for ${key} is not supported, ignoring it`);
    return undefined;
  }
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new TspodError(`invalid auth configuration file "${file}": the entry for ${key} is not base64 of "user:password"`);
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1).replace(/\0+$/, '') };
}

/** The keys that may hold credentials for `name`, most specific first. */
function candidateKeys(name: string): string[] {
  const parts = name.split('/');
  const keys: string[] = [];
  for (let n = parts.length; n >= 1; n--) keys.push(parts.slice(0, n).join('/'));
  return keys;
}

export interface FoundCredentials {
  credentials: Credentials;
  file: string;
  key: string;
}

/**
 * Credentials for `name` (`host[:port]` or `host[:port]/path`, no tag), searching the auth files in
 * order; undefined when none holds any.
 */
export function lookupCredentials(name: string, opts: AuthFileOptions = {}): FoundCredentials | undefined {
  const registry = normalizeRegistry(name.split('/')[0]);
  const keys = candidateKeys(name);
  for (const f of authFilePaths(opts)) {
    const contents = readAuthFile(f.path);
    if (!contents) continue;
    const auths = entriesOf(contents, f.legacy);
    for (const key of keys) {
      if (Object.prototype.hasOwnProperty.call(auths, key)) {
        const c = decodeAuth(f.path, key, auths[key]);
        if (c) return { credentials: c, file: f.path, key };
      }
    }
    for (const [key, entry] of Object.entries(auths)) {
      if (key.includes('/') && !/^https?:\/\//.test(key)) continue; // namespace keys match exactly only
      if (normalizeAuthKey(key) !== registry) continue;
      const c = decodeAuth(f.path, key, entry);
      if (c) return { credentials: c, file: f.path, key };
    }
    if (contents.credHelpers?.[registry] || contents.credsStore) {
      log.debug(`${f.path}: credential helpers are not supported, ignoring them`);
    }
  }
  return undefined;
}

export function findCredentials(name: string, opts: AuthFileOptions = {}): Credentials | undefined {
  return lookupCredentials(name, opts)?.credentials;
}

function writeAuthFile(file: string, contents: AuthFileContents): void {
  mkdirp(path.dirname(file), 0o700);
  writeFileAtomic(file, JSON.stringify(contents, null, '\t') + '\n', 0o600);
}

/** Writes credentials for `key` into the primary auth file (mode 0600), keeping other entries. */
export function storeCredentials(key: string, creds: Credentials, opts: AuthFileOptions = {}): string {
  const file = primaryAuthFile(opts);
  const contents = readAuthFile(file) ?? {};
  const auths = contents.auths && typeof contents.auths === 'object' && !Array.isArray(contents.auths) ? contents.auths : {};
  auths[key] = { ...(typeof auths[key] === 'object' ? auths[key] : {}), auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
  delete auths[key].identitytoken;
  contents.auths = auths;
  writeAuthFile(file, contents);
  return file;
}

export type RemoveResult =
  | { removed: true; file: string }
  | { removed: false; file: string; elsewhere?: string };

/**
 * Removes the entry for `key` from the primary auth file. When it is not there, says whether another
 * (read-only) file still holds credentials for it (docker's config.json), as podman does.
 */
export function removeCredentials(key: string, opts: AuthFileOptions = {}): RemoveResult {
  const file = primaryAuthFile(opts);
  const contents = readAuthFile(file);
  const auths = contents ? entriesOf(contents, false) : {};
  if (contents && Object.prototype.hasOwnProperty.call(auths, key)) {
    delete auths[key];
    writeAuthFile(file, contents);
    return { removed: true, file };
  }
  const other = lookupCredentials(key, opts);
  return { removed: false, file, elsewhere: other && other.file !== file ? other.file : undefined };
}

/** Empties the primary auth file's entries (logout --all); other keys of the file stay. */
export function removeAllCredentials(opts: AuthFileOptions = {}): string {
  const file = primaryAuthFile(opts);
  const contents = readAuthFile(file);
  if (contents) {
    contents.auths = {};
    if (contents.credHelpers) contents.credHelpers = {};
    writeAuthFile(file, contents);
  }
  return file;
}
