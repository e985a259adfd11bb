// registries.conf, the containers' registry configuration (containers-registries.conf(5)), read as
// podman reads it:
//   file    $CONTAINERS_REGISTRIES_CONF, else $XDG_CONFIG_HOME/containers/registries.conf when it
//           exists, else /etc/containers/registries.conf (the user's file replaces the system one)
//   v2      unqualified-search-registries = [...]; [[registry]] prefix/location/insecure/blocked
//   v1      [registries.search] / [registries.insecure] / [registries.block] registries = [...]
// A [[registry]] applies to the references its prefix matches (the longest prefix wins);
// `*.example.com` matches any host under example.com.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { TspodError } from '../errors';
import { configHome, Env } from '../paths';
import { parseToml, TomlError, TomlTable, TomlValue } from './toml';

export const SYSTEM_REGISTRIES_CONF = '/etc/containers/registries.conf';

export interface RegistryEntry {
  prefix: string;
  location: string;
  insecure: boolean;
  blocked: boolean;
}

export interface RegistriesConf {
  /** The file the configuration came from; undefined when none exists. */
  source?: string;
  registries: RegistryEntry[];
  unqualifiedSearchRegistries: string[];
  shortNameMode?: string;
  /** The entry that applies to `name` (`host[:port]`, or `host[:port]/path[:tag]`). */
  find(name: string): RegistryEntry | undefined;
  isInsecure(name: string): boolean;
  isBlocked(name: string): boolean;
}

/** The registries.conf that applies for this environment (it may not exist). */
export function registriesConfPath(env: Env = process.env): string {
  if (env.CONTAINERS_REGISTRIES_CONF) return env.CONTAINERS_REGISTRIES_CONF;
  const user = path.join(configHome(env), 'containers', 'registries.conf');
  return fs.existsSync(user) ? user : SYSTEM_REGISTRIES_CONF;
}

export function loadRegistriesConf(env: Env = process.env): RegistriesConf {
  const file = registriesConfPath(env);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return makeConf([], [], undefined, undefined);
    throw new TspodError(`loading registries configuration "${file}": ${(err as Error).message}`, { cause: err });
  }
  return parseRegistriesConf(text, file);
}

/** Parses the text of a registries.conf; `source` names it in errors. */
export function parseRegistriesConf(text: string, source = 'registries.conf'): RegistriesConf {
  const bad = (msg: string) => new TspodError(`loading registries configuration "${source}": ${msg}`);
  let doc: TomlTable;
  try {
    doc = parseToml(text);
  } catch (err) {
    if (err instanceof TomlError) throw bad(err.message);
    throw err;
  }

  const v1 = doc.registries;
  const hasV2 = doc.registry !== undefined || doc['unqualified-search-registries'] !== undefined;
  if (v1 !== undefined && hasV2) throw bad('mixing sysregistry v1/v2 is not supported');

  const entries = new Map<string, RegistryEntry>();
  const put = (e: RegistryEntry) => {
    // A prefix given twice: the settings merge, a later true wins (as the v1 lists did).
    const old = entries.get(e.prefix);
    entries.set(e.prefix, old ? { ...e, insecure: old.insecure || e.insecure, blocked: old.blocked || e.blocked } : e);
  };
  let search: string[] = [];

  if (v1 !== undefined) {
    if (!isTable(v1)) throw bad('"registries" must be a table');
    const list = (section: string): string[] => {
      const t = v1[section];
      if (t === undefined) return [];
      if (!isTable(t)) throw bad(`[registries.${section}] must be a table`);
      return stringList(t.registries, `registries.${section}.registries`, bad);
    };
    search = list('search').map((l) => parseLocation(l, bad));
    for (const loc of list('insecure')) put({ prefix: parseLocation(loc, bad), location: parseLocation(loc, bad), insecure: true, blocked: false });
    for (const loc of list('block')) put({ prefix: parseLocation(loc, bad), location: parseLocation(loc, bad), insecure: false, blocked: true });
  } else {
    search = stringList(doc['unqualified-search-registries'], 'unqualified-search-registries', bad);
    const regs = doc.registry;
    if (regs !== undefined) {
      if (!Array.isArray(regs)) throw bad('"registry" must be an array of tables ([[registry]])');
      regs.forEach((r, n) => {
        if (!isTable(r)) throw bad(`registry #${n + 1} must be a table`);
        const location = parseLocation(optString(r.location, 'location', bad) ?? '', bad);
        const prefixRaw = optString(r.prefix, 'prefix', bad);
        const prefix = prefixRaw !== undefined && prefixRaw !== '' ? parseLocation(prefixRaw, bad) : location;
        if (prefix === '') throw bad(`registry #${n + 1} needs a location or a prefix`);
        if (prefix.startsWith('*') && !/^\*\.[^*/:@]+$/.test(prefix)) {
          throw bad(`invalid prefix "${prefix}": a wildcard prefix has the form *.example.com`);
        }
        put({
          prefix,
          location: location || prefix,
          insecure: optBool(r.insecure, 'insecure', bad) ?? false,
          blocked: optBool(r.blocked, 'blocked', bad) ?? false,
        });
      });
    }
  }
  const mode = optString(doc['short-name-mode'], 'short-name-mode', bad);
  return makeConf([...entries.values()], search, mode, source);
}

function makeConf(registries: RegistryEntry[], search: string[], shortNameMode: string | undefined, source: string | undefined): RegistriesConf {
  const find = (name: string): RegistryEntry | undefined => {
    let best: RegistryEntry | undefined;
    for (const r of registries) {
      if (!prefixMatches(name, r.prefix)) continue;
      if (!best || specificity(r.prefix) > specificity(best.prefix)) best = r;
    }
    return best;
  };
  return {
    source,
    registries,
    unqualifiedSearchRegistries: search,
    shortNameMode,
    find,
    isInsecure: (name) => find(name)?.insecure ?? false,
    isBlocked: (name) => find(name)?.blocked ?? false,
  };
}

/** Longer prefixes are more specific; a wildcard counts by what it matches after `*`. */
function specificity(prefix: string): number {
  return prefix.startsWith('*.') ? prefix.length - 1 : prefix.length + 1;
}

/**
 * containers/image's matching: the prefix equals the name, or is followed in it by `/`, `:` or
 * `@` (so `localhost` also matches `localhost:5000`, as podman does). `*.example.com` matches any
 * host that ends in `.example.com`.
 */
export function prefixMatches(name: string, prefix: string): boolean {
  if (prefix.startsWith('*.')) {
    const host = name.split('/')[0].replace(/:\d+$/, '');
    return host.endsWith(prefix.slice(1)) && host.length > prefix.length - 1;
  }
  if (name.length < prefix.length || !name.startsWith(prefix)) return false;
  if (name.length === prefix.length) return true;
  const next = name[prefix.length];
  return next === '/' || next === ':' || next === '@';
}

function parseLocation(input: string, bad: (m: string) => TspodError): string {
  const trimmed = input.replace(/\/+$/, '');
  if (/^https?:\/\//.test(trimmed)) throw bad(`invalid location "${input}": URI schemes are not supported`);
  return trimmed;
}

function isTable(v: TomlValue | undefined): v is TomlTable {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringList(v: TomlValue | undefined, name: string, bad: (m: string) => TspodError): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw bad(`"${name}" must be an array of strings`);
  return v as string[];
}

function optString(v: TomlValue | undefined, name: string, bad: (m: string) => TspodError): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw bad(`"${name}" must be a string`);
  return v;
}

function optBool(v: TomlValue | undefined, name: string, bad: (m: string) => TspodError): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw bad(`"${name}" must be true or false`);
  return v;
}
