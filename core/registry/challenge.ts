// WWW-Authenticate challenges (RFC 7235), as registries send them:
//   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:x:pull"
//   Basic realm="Registry Realm"
// One header may carry several challenges separated by commas (Node joins repeated headers so).
// Pure functions.

export interface Challenge {
  /** Lower-case scheme: `bearer`, `basic`. */
  scheme: string;
  /** Parameters with lower-case names; quoted values unescaped. A token68 is kept under ''. */
  params: Record<string, string>;
}

const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const PARAM = new RegExp(`^(${TOKEN})\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"?|(${TOKEN})?)\\s*$`, 's');
const SCHEME = new RegExp(`^(${TOKEN})(?:\\s+(.*))?$`, 's');
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  if (Array.isArray(header)) return header.flatMap((h) => parseChallenges(h));
  const out: Challenge[] = [];
  let current: Challenge | undefined;
  for (const raw of splitItems(header)) {
    const item = raw.trim();
    if (item === '') continue;
    if (current && addParam(current, item)) continue;
    const m = SCHEME.exec(item);
    if (!m) continue; // garbage between challenges: ignore it rather than fail the request
    current = { scheme: m[1].toLowerCase(), params: {} };
    out.push(current);
    const rest = (m[2] ?? '').trim();
    if (rest !== '' && !addParam(current, rest) && TOKEN68.test(rest)) current.params[''] = rest;
  }
  return out;
}

function addParam(c: Challenge, item: string): boolean {
  const m = PARAM.exec(item);
  if (!m) return false;
  const value = m[2] !== undefined ? m[2].replace(/\\(.)/gs, '$1') : (m[3] ?? '');
  c.params[m[1].toLowerCase()] = value;
  return true;
}

/** Splits at commas outside quoted strings. */
function splitItems(s: string): string[] {
  const items: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quoted && ch === '\\') i++;
    else if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      items.push(s.slice(start, i));
      start = i + 1;
    }
  }
  items.push(s.slice(start));
  return items;
}
