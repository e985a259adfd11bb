// The test accounts as the system sees them: passwd entry and subordinate id ranges.

import * as fs from 'node:fs';

export interface IdRange {
  start: number;
  count: number;
}

export interface UserInfo {
  name: string;
  uid: number;
  gid: number;
  home: string;
  subuid: IdRange[];
  subgid: IdRange[];
}

function readLines(file: string): string[][] {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
}

/** Ranges granted to the user in /etc/subuid or /etc/subgid, by name or by uid as shadow-utils reads them. */
export function subIds(file: string, name: string, uid: number): IdRange[] {
  return readLines(file)
    .filter((f) => f.length >= 3 && (f[0] === name || f[0] === String(uid)))
    .map((f) => ({ start: Number(f[1]), count: Number(f[2]) }));
}

/** Reads the account fresh each call (users.sh may have just changed it); throws if it does not exist. */
export function userInfo(name: string): UserInfo {
  const entry = readLines('/etc/passwd').find((f) => f[0] === name);
  if (!entry) throw new Error(`user ${name} does not exist: run sh test/setup/up.sh as root`);
  const uid = Number(entry[2]);
  return {
    name,
    uid,
    gid: Number(entry[3]),
    home: entry[5],
    subuid: subIds('/etc/subuid', name, uid),
    subgid: subIds('/etc/subgid', name, uid),
  };
}
