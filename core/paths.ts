// Where a user's files live. Rootless only: everything is under the user's own directories.
//   store     $XDG_DATA_HOME/tspod            (~/.local/share/tspod), or --root
//   runtime   $XDG_RUNTIME_DIR/tspod          (falls back to /tmp/tspod-run-UID, mode 0700)
//   config    $XDG_CONFIG_HOME/containers     (~/.config/containers) for auth.json, registries.conf

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TspodError } from './errors';

export type Env = NodeJS.ProcessEnv;

export function homeDir(env: Env = process.env): string {
  return env.HOME || os.homedir();
}

export function dataHome(env: Env = process.env): string {
  return env.XDG_DATA_HOME || path.join(homeDir(env), '.local', 'share');
}

export function configHome(env: Env = process.env): string {
  return env.XDG_CONFIG_HOME || path.join(homeDir(env), '.config');
}

export function cacheHome(env: Env = process.env): string {
  return env.XDG_CACHE_HOME || path.join(homeDir(env), '.cache');
}

export function defaultStoreRoot(env: Env = process.env): string {
  return path.join(dataHome(env), 'tspod');
}

/**
 * The per-user runtime directory. Without logind there is no /run/user/UID; like podman we fall
 * back to a directory in /tmp that only this user may use, and refuse one that someone else owns.
 */
export function runtimeDir(env: Env = process.env): string {
  const uid = process.getuid?.() ?? 0;
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg && isOwnDir(xdg, uid)) return xdg;
  const fallback = path.join(os.tmpdir(), `tspod-run-${uid}`);
  try {
    fs.mkdirSync(fallback, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const st = fs.lstatSync(fallback);
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
    throw new TspodError(`runtime directory ${fallback} is not a private directory of uid ${uid}: remove it or set XDG_RUNTIME_DIR`);
  }
  return fallback;
}

function isOwnDir(dir: string, uid: number): boolean {
  try {
    const st = fs.statSync(dir);
    return st.isDirectory() && st.uid === uid;
  } catch {
    return false;
  }
}
