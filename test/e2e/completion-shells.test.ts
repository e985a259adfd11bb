// The completion scripts in real bash, zsh and fish, as the unprivileged user, over a store with
// containers in every state and a tagged image: the candidates each shell would offer.
//   bash: the script sourced, COMP_WORDS split as readline splits them (COMP_WORDBREAKS), the
//         completion function called, COMPREPLY read; and once through readline on a terminal.
//   zsh:  an interactive zsh on a pseudo-terminal (zpty) with compinit and the script, TAB typed,
//         the matches that reach compadd recorded.
//   fish: `complete --do-complete`.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { freshStore, removeStore, REGISTRY, REPO_ROOT, runAs, TEST_USER, TSPOD_BIN, tspod, withPty, type RunResult } from '../lib';

const IMAGE = `${REGISTRY}/busybox`;
const show = (r: RunResult) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

async function ok(p: Promise<RunResult>): Promise<RunResult> {
  const r = await p;
  assert.is(r.code, 0, show(r));
  return r;
}

let store = '';
let bin = '';
let files = '';
let env: Record<string, string> = {};

async function setUp(): Promise<void> {
  if (store) return;
  store = await freshStore(TEST_USER);
  await ok(tspod(TEST_USER, ['pull', '-q', IMAGE], { store }));
  await ok(tspod(TEST_USER, ['tag', IMAGE, 'localhost/mine:v1'], { store }));
  await ok(tspod(TEST_USER, ['run', '--name', 'done', IMAGE, 'true'], { store }));
  await ok(tspod(TEST_USER, ['create', '--name', 'made', IMAGE, 'true'], { store }));
  await ok(tspod(TEST_USER, ['run', '-d', '--name', 'web', '--stop-timeout', '1', IMAGE, 'sleep', '1000'], { store }));
  // `tspod` on the PATH, as an installed one would be.
  // Scratch directories of the user's, removed by the harness even after a crash.
  bin = await freshStore(TEST_USER);
  fs.symlinkSync(TSPOD_BIN, path.join(bin, 'tspod'));
  files = await freshStore(TEST_USER);
  for (const f of ['alpha.txt', 'alps.txt']) fs.writeFileSync(path.join(files, f), '');
  fs.mkdirSync(path.join(files, 'albums'));
  env = { PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`, COLUMNS: '0' };
}

async function tearDown(): Promise<void> {
  if (!store) return;
  await tspod(TEST_USER, ['rm', '-f', '--ignore', 'web'], { store });
  removeStore(store);
  removeStore(bin);
  removeStore(files);
  store = '';
}

/** The words of a command line as readline gives them to a completion function. */
function compWords(line: string): { words: string[]; cword: number } {
  const words: string[] = [];
  let cur = '';
  let quote = '';
  const flush = () => {
    if (cur !== '') words.push(cur);
    cur = '';
  };
  for (const ch of line) {
    if (quote) {
      cur += ch;
      if (ch === quote) quote = '';
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      cur += ch;
    } else if (ch === ' ') flush();
    else if (ch === '=' || ch === ':') {
      // Word breaks of COMP_WORDBREAKS: a word of their own (runs of them together).
      if (cur !== '' && !/^[=:]+$/.test(cur)) flush();
      cur += ch;
      if (!/^[=:]+$/.test(cur)) flush();
    } else {
      if (/^[=:]+$/.test(cur)) flush();
      cur += ch;
    }
  }
  const trailingBlank = line.endsWith(' ');
  flush();
  if (trailingBlank) words.push('');
  return { words, cword: words.length - 1 };
}

const BASH_DRIVER = String.raw`
source "$1"
COMP_LINE=$2
COMP_POINT=${'$'}{#COMP_LINE}
shift 2
COMP_WORDS=("$@")
COMP_CWORD=$((${'$'}{#COMP_WORDS[@]} - 1))
COMP_TYPE=9
__tspod_complete
(( ${'$'}{#COMPREPLY[@]} )) && printf '%s\n' "${'$'}{COMPREPLY[@]}"
exit 0
`;

/** COMPREPLY after TAB at the end of `line`, as bash's completion function leaves it. */
async function bashComplete(line: string, extraEnv: Record<string, string> = {}): Promise<string[]> {
  const { words } = compWords(line);
  const r = await ok(runAs(TEST_USER, ['bash', '--norc', '--noprofile', '-c', BASH_DRIVER, 'bash', path.join(REPO_ROOT, 'completions', 'tspod.bash'), line, ...words], { env: { ...env, ...extraEnv }, cwd: files }));
  return r.stdout === '' ? [] : r.stdout.replace(/\n$/, '').split('\n');
}

const R = () => `--root ${store}`;

const bash = suite('bash');
bash.before(setUp);

bash('verbs, nouns and their subcommands', async () => {
  assert.equal(await bashComplete('tspod st'), ['start', 'stop']);
  assert.equal(await bashComplete('tspod ru'), ['run']);
  const all = await bashComplete('tspod ');
  for (const v of ['completion', 'container', 'generate', 'help', 'image', 'run', 'ps']) assert.ok(all.includes(v), v);
  assert.equal(await bashComplete('tspod generate '), ['kube', 'systemd']);
  assert.equal(await bashComplete('tspod image r'), ['remove', 'rm']);
  assert.equal(await bashComplete('tspod help ge'), ['generate']);
});

bash('containers by state, images by name and tag', async () => {
  assert.equal(await bashComplete(`tspod ${R()} start `), ['made', 'done']);
  assert.equal(await bashComplete(`tspod ${R()} stop `), ['web']);
  assert.equal(await bashComplete(`tspod ${R()} rm `), ['web', 'made', 'done']);
  assert.equal(await bashComplete(`tspod ${R()} container stop w`), ['web']);
  assert.equal(await bashComplete(`tspod ${R()} rmi `), ['localhost:5000/busybox:latest', 'localhost/mine:v1']);
  assert.equal(await bashComplete(`tspod ${R()} run mi`), ['mine:v1']);
  // readline replaces only what follows the last ':' of the word: the candidates lose the rest.
  assert.equal(await bashComplete(`tspod ${R()} run localhost:5000/bu`), ['5000/busybox:latest']);
  assert.equal(await bashComplete(`tspod ${R()} run localhost/mine:`), ['v1']);
  assert.equal(await bashComplete(`tspod ${R()} generate systemd --new w`), ['web']);
});

bash('flags and closed sets of values, with = too', async () => {
  assert.equal(await bashComplete('tspod ps --so'), ['--sort']);
  assert.equal(await bashComplete('tspod ps --sort '), ['command', 'created', 'id', 'image', 'names', 'runningfor', 'size', 'status']);
  assert.equal(await bashComplete('tspod run --network '), ['none', 'host', 'pasta', 'slirp4netns']);
  assert.equal(await bashComplete('tspod run --network=pa'), ['pasta']);
  assert.equal(await bashComplete('tspod run --network='), ['none', 'host', 'pasta', 'slirp4netns']);
  assert.equal(await bashComplete('tspod --log-level '), ['trace', 'debug', 'info', 'warn', 'warning', 'error', 'fatal', 'panic']);
  assert.equal(await bashComplete('tspod inspect --format '), ['json']);
  assert.equal(await bashComplete('tspod completion '), ['bash', 'zsh', 'fish']);
  const stopFlags = await bashComplete('tspod stop -');
  for (const f of ['--all', '-a', '--ignore', '-i', '--time', '-t', '--help']) assert.ok(stopFlags.includes(f), f);
});

bash("files where tspod says so, none where it does not; quoting undone", async () => {
  assert.equal(await bashComplete(`tspod ${R()} run busybox al`), ['albums', 'alpha.txt', 'alps.txt'], "the container's command: files");
  assert.equal(await bashComplete('tspod run -v al'), ['albums', 'alpha.txt', 'alps.txt']);
  assert.equal(await bashComplete('tspod --root al'), ['albums'], '--root: directories');
  assert.equal(await bashComplete(`tspod ${R()} stop al`), [], 'no files for a container');
  assert.equal(await bashComplete(`tspod '--root' "${store}" st\\op `), ['web']);
});

bash('descriptions, aligned, when the terminal has room', async () => {
  const withDesc = await bashComplete('tspod st', { COLUMNS: '80' });
  assert.equal(withDesc, ['start  (Start one or more containers)', 'stop   (Stop one or more containers)']);
  assert.equal(await bashComplete('tspod ru', { COLUMNS: '80' }), ['run'], 'a single candidate is inserted bare');
});

bash('through readline on a terminal: TAB completes, TAB TAB lists', async () => {
  const rc = path.join(files, 'rc');
  fs.writeFileSync(rc, `PS1='$ '\nsource ${path.join(REPO_ROOT, 'completions', 'tspod.bash')}\n`);
  const r = await withPty(TEST_USER, ['bash', '--noprofile', '--rcfile', rc, '-i'], {
    env: { ...env, TERM: 'dumb' },
    cols: 200,
    steps: [
      { expect: '$ ', send: `tspod ${R()} sto\t` },
      { expect: 'p ', send: 'w\t' },
      { expect: 'eb ', send: `\x15tspod ${R()} s\t\t` },
      { expect: 'Stop one or more containers', send: '\x15exit\r' },
    ],
    timeout: 30_000,
  });
  assert.is(r.stuckAt, undefined, r.output);
  assert.match(r.output, /tspod --root \S+ stop web /, 'TAB completed the verb, then the container');
  assert.match(r.output, /start +\(Start one or more containers\).*stop +\(Stop one or more containers\)/s, 'TAB TAB lists the verbs with descriptions');
});

// ---------------------------------------------------------------------------------------------

const ZSH_DRIVER = String.raw`
zmodload zsh/zpty || exit 2
script=$1 line=$2
zpty z zsh -f -i
zpty -w z 'PROMPT= RPROMPT=; autoload -U compinit && compinit -u -D; source '$script'; bindkey "^I" complete-word
__begin() { print -rn -- __BEGIN__ }
__end() { print -rn -- __END__ }
compprefuncs=( __begin )
comppostfuncs=( __end )
compadd() {
  if [[ ${'$'}{@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
  local -a __hits
  builtin compadd -O __hits "$@"
  local h
  for h in $__hits; do print -rn -- "<<$IPREFIX$h>>"; done
  builtin compadd "$@"
}
print -r -- RE""ADY'
out=''
for i in {1..100}; do
  zpty -r -t z chunk && out+=$chunk
  [[ $out == *READY* ]] && break
  sleep 0.05
done
zpty -w -n z "$line"$'\t'
out=''
for i in {1..200}; do
  while zpty -r -t z chunk; do out+=$chunk; done
  [[ $out == *__END__* ]] && break
  sleep 0.05
done
zpty -d z
[[ $out == *__END__* ]] || { print -r -- "no completion ran: $out" >&2; exit 3; }
body=${'$'}{out#*__BEGIN__}
body=${'$'}{body%%__END__*}
print -rl -- ${'$'}{(u)${'$'}{(@)${'$'}{(@)${'$'}{(s:>>:)body}#*<<}:#}}
`;

async function zshComplete(line: string): Promise<string[]> {
  const r = await ok(runAs(TEST_USER, ['zsh', '-f', '-c', ZSH_DRIVER, 'zsh', path.join(REPO_ROOT, 'completions', '_tspod'), line], { env, cwd: files, timeout: 30_000 }));
  return r.stdout.split('\n').filter((l) => l !== '');
}

const zsh = suite('zsh');
zsh.before(setUp);

zsh('verbs, containers, images, flags and values through compinit', async () => {
  assert.equal(await zshComplete('tspod st'), ['start', 'stop']);
  assert.equal(await zshComplete('tspod generate '), ['kube', 'systemd']);
  assert.equal(await zshComplete(`tspod ${R()} start `), ['made', 'done']);
  assert.equal(await zshComplete(`tspod ${R()} stop `), ['web']);
  assert.equal(await zshComplete(`tspod ${R()} run localhost:5000/bu`), ['localhost:5000/busybox:latest']);
  assert.equal(await zshComplete(`tspod ${R()} run mi`), ['mine:v1']);
  assert.equal(await zshComplete('tspod ps --so'), ['--sort']);
  assert.equal(await zshComplete('tspod run --network=pa'), ['--network=pasta']);
  assert.equal(await zshComplete('tspod run --network '), ['none', 'host', 'pasta', 'slirp4netns']);
});

zsh('files where tspod says so, none where it does not', async () => {
  assert.equal((await zshComplete(`tspod ${R()} run busybox al`)).sort(), ['albums', 'alpha.txt', 'alps.txt']);
  assert.equal(await zshComplete('tspod --root al'), ['albums']);
  assert.equal(await zshComplete(`tspod ${R()} stop al`), []);
});

// ---------------------------------------------------------------------------------------------

async function fishComplete(line: string): Promise<string[]> {
  const script = path.join(REPO_ROOT, 'completions', 'tspod.fish');
  const r = await ok(runAs(TEST_USER, ['fish', '--no-config', '-c', `source ${script}; complete --do-complete ${fishQuote(line)}`], { env, cwd: files }));
  return r.stdout.split('\n').filter((l) => l !== '');
}

function fishQuote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

const fish = suite('fish');
fish.before(setUp);
fish.after(tearDown);

fish('verbs with descriptions, containers, images', async () => {
  assert.equal(await fishComplete('tspod st'), ['start\tStart one or more containers', 'stop\tStop one or more containers']);
  assert.equal(await fishComplete(`tspod ${R()} start `), ['done', 'made']);
  assert.equal(await fishComplete(`tspod ${R()} stop `), ['web']);
  assert.equal(await fishComplete(`tspod ${R()} run localhost:5000/bu`), ['localhost:5000/busybox:latest']);
  assert.equal(await fishComplete(`tspod ${R()} rmi localhost/`), ['localhost/mine:v1']);
  assert.equal(await fishComplete('tspod generate '), ['kube\tGenerate Kubernetes YAML based on containers', 'systemd\tGenerate systemd units']);
});

fish('flags and values, with = too; files where tspod says so', async () => {
  assert.equal(await fishComplete('tspod ps --so'), ['--sort\tSort output by: command, created, id, image, names, runningfor, size, status']);
  assert.equal(await fishComplete('tspod run --network=pa'), ['--network=pasta']);
  assert.equal(await fishComplete('tspod run --network '), ['host', 'none', 'pasta', 'slirp4netns']);
  assert.equal(await fishComplete(`tspod ${R()} run busybox al`), ['albums/', 'alpha.txt', 'alps.txt']);
  assert.equal((await fishComplete('tspod --root al')).map((l) => l.split('\t')[0]), ['albums/']);
  assert.equal(await fishComplete(`tspod ${R()} stop al`), []);
  assert.equal(await fishComplete(`tspod --root '${store}' st\\op `), ['web'], 'quoting undone');
});

bash.run();
zsh.run();
fish.run();
