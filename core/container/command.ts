// Docker's rules for what a container runs, with what environment: pure functions.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { TspodError } from '../errors';
import type { ImageRuntimeConfig } from '../image/config';

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface CommandInput {
  /** --entrypoint: undefined = the image's; '' = none; a string = that program (JSON array allowed). */
  entrypoint?: string;
  /** Arguments after the image on the command line. */
  args: string[];
}

export interface ResolvedCommand {
  entrypoint: string[];
  cmd: string[];
  argv: string[];
}

/**
 * ENTRYPOINT + CMD as docker combines them: a given --entrypoint replaces the image's
 * ENTRYPOINT and drops its CMD; given arguments replace the image's CMD.
 */
export function resolveCommand(image: ImageRuntimeConfig, input: CommandInput): ResolvedCommand {
  let entrypoint: string[];
  let cmd: string[];
  if (input.entrypoint !== undefined) {
    entrypoint = parseEntrypoint(input.entrypoint);
    cmd = input.args;
  } else {
    entrypoint = image.Entrypoint ?? [];
    cmd = input.args.length > 0 ? input.args : image.Cmd ?? [];
  }
  const argv = [...entrypoint, ...cmd];
  if (argv.length === 0) throw new TspodError('no command or entrypoint provided, and no CMD or ENTRYPOINT from image');
  return { entrypoint, cmd, argv };
}

function parseEntrypoint(s: string): string[] {
  if (s === '') return [];
  // podman accepts a JSON array for --entrypoint
  if (s.startsWith('[')) {
    try {
      const v = JSON.parse(s) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    } catch {
      // not JSON: a program name that starts with '['
    }
  }
  return [s];
}

/** Parses an --env-file: KEY=VALUE lines, `#` comments, a bare KEY takes the host's value. */
export function parseEnvFile(text: string, file: string, hostEnv: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '').replace(/^\s+/, '');
    if (!line || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line.trimEnd() : line.slice(0, eq);
    if (!key || /\s/.test(key)) throw new TspodError(`${file}:${i + 1}: invalid variable name "${key}"`);
    if (eq < 0) {
      if (hostEnv[key] !== undefined) out.push(`${key}=${hostEnv[key]}`);
      return;
    }
    out.push(line);
  });
  return out;
}

/** Reads and parses --env-file files (relative to `cwd`), in order. */
export function readEnvFiles(files: string[], cwd: string, hostEnv: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = fs.readFileSync(path.resolve(cwd, f), 'utf8');
    } catch (err) {
      throw new TspodError(`reading env file ${f}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
    }
    out.push(...parseEnvFile(text, f, hostEnv));
  }
  return out;
}

/**
 * The environment: image Env, then --env-file entries, then -e; later wins. `-e NAME` takes the
 * host's value (and is dropped when the host has none). PATH defaults when the image has none.
 */
export function mergeEnv(image: string[] | undefined, envFiles: string[], flags: string[], hostEnv: NodeJS.ProcessEnv, extra: string[] = []): string[] {
  const map = new Map<string, string>();
  const put = (kv: string) => {
    const eq = kv.indexOf('=');
    if (eq < 0) {
      if (kv.endsWith('*')) {
        // podman: -e 'PREFIX*' takes every host variable starting with PREFIX
        const prefix = kv.slice(0, -1);
        for (const [k, v] of Object.entries(hostEnv)) if (k.startsWith(prefix) && v !== undefined) map.set(k, v);
        return;
      }
      const v = hostEnv[kv];
      if (v !== undefined) map.set(kv, v);
      return;
    }
    if (eq === 0) throw new TspodError(`invalid environment variable "${kv}"`);
    map.set(kv.slice(0, eq), kv.slice(eq + 1));
  };
  for (const kv of image ?? []) put(kv);
  if (!map.has('PATH')) put(DEFAULT_PATH);
  for (const kv of extra) put(kv);
  for (const kv of envFiles) put(kv);
  for (const kv of flags) put(kv);
  return [...map].map(([k, v]) => `${k}=${v}`);
}

/** Names as docker generates them: adjective_surname. */
const LEFT = [
  'admiring', 'adoring', 'affectionate', 'agitated', 'amazing', 'angry', 'awesome', 'beautiful', 'blissful', 'bold',
  'boring', 'brave', 'busy', 'charming', 'clever', 'compassionate', 'competent', 'condescending', 'confident', 'cool',
  'cranky', 'crazy', 'dazzling', 'determined', 'distracted', 'dreamy', 'eager', 'ecstatic', 'elastic', 'elated',
  'elegant', 'eloquent', 'epic', 'exciting', 'fervent', 'festive', 'flamboyant', 'focused', 'friendly', 'frosty',
  'funny', 'gallant', 'gifted', 'goofy', 'gracious', 'great', 'happy', 'hardcore', 'heuristic', 'hopeful', 'hungry',
  'infallible', 'inspiring', 'intelligent', 'interesting', 'jolly', 'jovial', 'keen', 'kind', 'laughing', 'loving',
  'lucid', 'magical', 'modest', 'musing', 'mystifying', 'naughty', 'nervous', 'nice', 'nifty', 'nostalgic', 'objective',
  'optimistic', 'peaceful', 'pedantic', 'pensive', 'practical', 'priceless', 'quirky', 'quizzical', 'recursing',
  'relaxed', 'reverent', 'romantic', 'sad', 'serene', 'sharp', 'silly', 'sleepy', 'stoic', 'strange', 'stupefied',
  'suspicious', 'sweet', 'tender', 'thirsty', 'trusting', 'unruffled', 'upbeat', 'vibrant', 'vigilant', 'vigorous',
  'wizardly', 'wonderful', 'xenodochial', 'youthful', 'zealous', 'zen',
];
const RIGHT = [
  'agnesi', 'albattani', 'allen', 'archimedes', 'babbage', 'banach', 'bardeen', 'bartik', 'bassi', 'bell', 'bhabha',
  'blackwell', 'bohr', 'booth', 'borg', 'bose', 'brahmagupta', 'brattain', 'brown', 'carson', 'cerf', 'chandrasekhar',
  'clarke', 'colden', 'cori', 'cray', 'curie', 'darwin', 'davinci', 'diffie', 'dijkstra', 'dubinsky', 'easley',
  'edison', 'einstein', 'elion', 'engelbart', 'euclid', 'euler', 'faraday', 'feistel', 'fermat', 'fermi', 'feynman',
  'franklin', 'galileo', 'gauss', 'goldberg', 'goodall', 'gould', 'hamilton', 'hawking', 'heisenberg', 'hermann',
  'hertz', 'hodgkin', 'hopper', 'hypatia', 'jackson', 'jang', 'jennings', 'johnson', 'kalam', 'kapitsa', 'keller',
  'kepler', 'khorana', 'kilby', 'knuth', 'kowalevski', 'lalande', 'lamarr', 'lamport', 'leakey', 'lederberg',
  'lehmann', 'lewin', 'lichterman', 'liskov', 'lovelace', 'lumiere', 'mahavira', 'margulis', 'matsumoto', 'maxwell',
  'mayer', 'mccarthy', 'mcclintock', 'meitner', 'mendel', 'merkle', 'minsky', 'mirzakhani', 'montalcini', 'moore',
  'morse', 'moser', 'napier', 'nash', 'neumann', 'newton', 'nobel', 'noether', 'northcutt', 'noyce', 'panini', 'pare',
  'pascal', 'pasteur', 'payne', 'perlman', 'pike', 'poincare', 'poitras', 'ptolemy', 'raman', 'ramanujan', 'ride',
  'ritchie', 'robinson', 'roentgen', 'rosalind', 'saha', 'sammet', 'shamir', 'shannon', 'shaw', 'shockley', 'sinoussi',
  'snyder', 'spence', 'stonebraker', 'sutherland', 'swanson', 'swartz', 'swirles', 'tesla', 'thompson', 'torvalds',
  'turing', 'varahamihira', 'visvesvaraya', 'volhard', 'wescoff', 'wiles', 'williams', 'wilson', 'wing', 'wozniak',
  'wright', 'wu', 'yalow', 'yonath', 'zhukovsky',
];

export function generateName(taken: (name: string) => boolean, random: () => number = Math.random): string {
  for (let i = 0; i < 50; i++) {
    const name = `${LEFT[Math.floor(random() * LEFT.length)]}_${RIGHT[Math.floor(random() * RIGHT.length)]}`;
    if (name !== 'boring_wozniak' && !taken(name)) return name;
  }
  for (let n = 1; ; n++) {
    const name = `${LEFT[Math.floor(random() * LEFT.length)]}_${RIGHT[Math.floor(random() * RIGHT.length)]}${n}`;
    if (!taken(name)) return name;
  }
}

/** Container names as docker allows them. */
export function validName(name: string): boolean {
  return /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name);
}
