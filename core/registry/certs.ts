// Extra TLS material for a registry, from a certs.d directory as containers-certs.d(5) describes:
//   <dir>/*.crt              CA certificates trusted in addition to the system's
//   <dir>/NAME.cert + .key   a client certificate and its key
// The directory is --cert-dir when given, else the first that exists of
//   ~/.config/containers/certs.d/HOST:PORT, /etc/containers/certs.d/HOST:PORT, /etc/docker/certs.d/HOST:PORT

import * as fs from 'node:fs';
import * as path from 'node:path';
import { TspodError } from '../errors';
import { log } from '../log';
import { Env, homeDir } from '../paths';

export interface TlsMaterial {
  /** The directory the material came from, if any. */
  dir?: string;
  /** Extra CA certificates (PEM). */
  ca: string[];
  cert?: string;
  key?: string;
}

const SYSTEM_CERT_DIRS = ['/etc/containers/certs.d', '/etc/docker/certs.d'];

/** The certs.d directory for a registry (`host[:port]` as the user wrote it), if one applies. */
export function certDirFor(domain: string, opts: { certDir?: string; env?: Env } = {}): string | undefined {
  if (opts.certDir) return opts.certDir;
  const env = opts.env ?? process.env;
  const bases = [path.join(homeDir(env), '.config', 'containers', 'certs.d'), ...SYSTEM_CERT_DIRS];
  for (const base of bases) {
    const dir = path.join(base, domain);
    try {
      if (fs.statSync(dir).isDirectory()) return dir;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EACCES') throw err;
    }
  }
  return undefined;
}

export function loadTlsMaterial(domain: string, opts: { certDir?: string; env?: Env } = {}): TlsMaterial {
  const dir = certDirFor(domain, opts);
  if (!dir) return { ca: [] };
  let names: string[];
  try {
    names = fs.readdirSync(dir).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // An explicit --cert-dir that does not exist is the user's mistake; say so.
    if (opts.certDir && code === 'ENOENT') throw new TspodError(`reading certificate directory ${dir}: no such file or directory`);
    if (code === 'ENOENT') return { ca: [] };
    throw new TspodError(`reading certificate directory ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const read = (name: string) => fs.readFileSync(path.join(dir, name), 'utf8');
  const out: TlsMaterial = { dir, ca: [] };
  for (const name of names) {
    if (name.endsWith('.crt')) {
      out.ca.push(read(name));
    } else if (name.endsWith('.cert')) {
      const keyName = name.slice(0, -'.cert'.length) + '.key';
      if (!names.includes(keyName)) throw new TspodError(`missing key ${keyName} for client certificate ${name} in ${dir}`);
      if (out.cert) {
        log.debug(`${dir}: more than one client certificate, ignoring ${name}`);
        continue;
      }
      out.cert = read(name);
      out.key = read(keyName);
    } else if (name.endsWith('.key')) {
      const certName = name.slice(0, -'.key'.length) + '.cert';
      if (!names.includes(certName)) throw new TspodError(`missing client certificate ${certName} for key ${name} in ${dir}`);
    }
  }
  return out;
}
