#!/usr/bin/env node
// Writes man pages from tspod's own help: tspod.1 (the verbs) and tspod-VERB.1 for each command,
// so the release carries man-style help that cannot drift from the program.
//   node packaging/manpage.js dist/tspod OUTDIR
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const [bin, out] = process.argv.slice(2);
if (!bin || !out) {
  console.error('usage: manpage.js TSPOD_BINARY OUTDIR');
  process.exit(2);
}
const help = (args) => execFileSync(bin, [...args, '--help'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim().split(' ').pop();
const esc = (s) => s.replace(/\\/g, '\\e').replace(/^\./gm, '\\&.').replace(/^'/gm, "\\&'");

/** Turns help text (podman's layout: a title line, then `Section:` blocks) into troff. */
function troff(name, text) {
  const lines = text.split('\n');
  const summary = lines[0].trim();
  let body = `.TH ${name.toUpperCase()} 1 "" "tspod ${version}" "User Commands"\n.SH NAME\n${name} \\- ${esc(summary)}\n`;
  for (const line of lines.slice(1)) {
    const section = /^([A-Z][A-Za-z ]+):$/.exec(line);
    if (section) body += `.SH ${section[1].toUpperCase()}\n.nf\n`;
    else if (line.trim() !== '') body += `${esc(line.replace(/^ {2}/, ''))}\n`;
    else body += '\n';
  }
  return body + '.fi\n';
}

fs.mkdirSync(out, { recursive: true });
const top = execFileSync(bin, ['help'], { encoding: 'utf8' });
fs.writeFileSync(path.join(out, 'tspod.1'), troff('tspod', top));
const verbs = [...top.matchAll(/^ {2}([a-z][a-z-]*) {2,}/gm)].map((m) => m[1]);
let n = 1;
for (const verb of verbs) {
  const text = help([verb]);
  fs.writeFileSync(path.join(out, `tspod-${verb}.1`), troff(`tspod-${verb}`, text));
  n++;
  const subs = /^Available Commands:$/m.test(text) ? [...text.split('Available Commands:')[1].matchAll(/^ {2}([a-z][a-z-]*) {2,}/gm)].map((m) => m[1]) : [];
  for (const sub of subs) {
    fs.writeFileSync(path.join(out, `tspod-${verb}-${sub}.1`), troff(`tspod-${verb}-${sub}`, help([verb, sub])));
    n++;
  }
}
console.log(`${n} man pages in ${out}`);
