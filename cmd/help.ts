// Help in podman's layout, generated from the command definitions.

import type { Cli, CommandClass } from 'clipanion';
import type { TspodContext } from './context';
import { TspodCommand } from './base';

interface Definition {
  path: string;
  usage: string;
  description?: string;
  details?: string;
  examples?: Array<[string, string]>;
  options: Array<{ definition: string; description?: string; required?: boolean }>;
}

export type AnyCommandClass = { paths?: string[][]; usage?: { description?: string; details?: string; category?: string }; synopsis?: string };

function classesOf(cli: Cli<TspodContext>): AnyCommandClass[] {
  // Cli keeps its registrations in a Map keyed by class.
  return [...(cli as unknown as { registrations: Map<AnyCommandClass, unknown> }).registrations.keys()];
}

/** The command registered at exactly this path (`['image', 'ls']`), if any. */
export function commandClassAt(cli: Cli<TspodContext>, words: string[]): CommandClass<TspodContext> | undefined {
  const want = words.join(' ');
  const hit = classesOf(cli).find((c) => (c.paths ?? []).some((p) => p.join(' ') === want));
  return hit as CommandClass<TspodContext> | undefined;
}

/**
 * The first-level words (verbs, and nouns such as `image`) with their descriptions, sorted: what
 * `Available Commands:` lists and what completion offers after `tspod`. Commands without a
 * usage (`__complete`) are hidden.
 */
export function availableCommands(classes: AnyCommandClass[]): Map<string, string> {
  const verbs = new Map<string, string>([['help', 'Help about any command']]);
  for (const c of classes) {
    if (!c.usage || c.usage.category === 'hidden') continue;
    for (const p of c.paths ?? []) {
      if (p.length === 1 && !verbs.has(p[0])) verbs.set(p[0], c.usage.description ?? '');
      if (p.length === 2 && !verbs.has(p[0])) verbs.set(p[0], nounDescription(p[0]));
    }
  }
  return new Map([...verbs.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The verbs for `tspod --help`: first-level words, each with the description of its command. */
export function renderTopHelp(cli: Cli<TspodContext>): string {
  const verbs = availableCommands(classesOf(cli));
  const names = [...verbs.keys()];
  const width = Math.max(11, ...names.map((n) => n.length));
  let s = 'Manage pods, containers and images\n\nUsage:\n  tspod [options] [command]\n\nAvailable Commands:\n';
  for (const n of names) s += `  ${n.padEnd(width)} ${verbs.get(n)}\n`;
  s += '\nOptions:\n';
  const opts: Array<[string, string]> = [
    ['    --cgroup-manager string', 'Cgroup manager to use ("cgroupfs"|"systemd") (default "cgroupfs")'],
    ['-D, --debug', 'Same as --log-level debug'],
    ['-h, --help', 'Help for tspod'],
    ['    --log-level string', 'Log messages above specified level (trace, debug, info, warn, warning, error, fatal, panic) (default "warn")'],
    ['    --root string', 'Path to the root directory in which data, including images, is stored'],
    ['    --runroot string', "Path to the 'run directory' where all state information is stored"],
    ['    --storage-driver string', 'Select which storage driver is used to manage storage of images and containers (default "overlay")'],
    ['-v, --version', 'version for tspod'],
  ];
  const ow = Math.max(...opts.map(([o]) => o.length));
  for (const [o, d] of opts) s += `  ${o.padEnd(ow)}   ${d}\n`;
  return s;
}

const NOUNS: Record<string, string> = {
  container: 'Manage containers',
  image: 'Manage images',
  system: 'Manage tspod',
  generate: 'Generate structured data based on containers',
  volume: 'Manage volumes',
  network: 'Manage networks',
};

function nounDescription(noun: string): string {
  return NOUNS[noun] ?? `Manage ${noun}s`;
}

function optionColumn(def: string): string {
  // clipanion: "-q,--quiet", "--format #0", "-e,--env #0"
  const [names, arg] = def.split(' ');
  const parts = names.split(',');
  const long = parts.find((p) => p.startsWith('--')) ?? parts[0];
  const short = parts.find((p) => /^-[^-]$/.test(p));
  const value = arg ? ' string' : '';
  return `${short ? short + ', ' : '    '}${long}${value}`;
}

/** `tspod image --help`: the subcommands of a noun; undefined when no command starts with it. */
export function renderNounHelp(cli: Cli<TspodContext>, noun: string): string | undefined {
  const subs = new Map<string, string>();
  for (const c of classesOf(cli)) {
    if (!c.usage || c.usage.category === 'hidden') continue;
    for (const p of c.paths ?? []) if (p.length === 2 && p[0] === noun && !subs.has(p[1])) subs.set(p[1], c.usage.description ?? '');
  }
  if (subs.size === 0) return undefined;
  const names = [...subs.keys()].sort();
  const width = Math.max(11, ...names.map((n) => n.length));
  let s = `${nounDescription(noun)}\n\nDescription:\n  ${nounDescription(noun)}\n\nUsage:\n  tspod ${noun} [command]\n\nAvailable Commands:\n`;
  for (const n of names) s += `  ${n.padEnd(width)} ${subs.get(n)}\n`;
  return s;
}

export function renderCommandHelp(cli: Cli<TspodContext>, commandClass: CommandClass<TspodContext>): string {
  const cls = commandClass as unknown as AnyCommandClass;
  const defs = cli.definitions() as unknown as Definition[];
  const path = (cls.paths?.[0] ?? []).join(' ');
  const def = defs.find((d) => d.path === `tspod ${path}`) ?? defs.find((d) => d.path.endsWith(path));
  let s = '';
  if (cls.usage?.description) s += `${cls.usage.description}\n\n`;
  if (cls.usage?.details) s += `Description:\n  ${cls.usage.details.trim().replace(/\n/g, '\n  ')}\n\n`;
  const synopsis = (cls as { synopsis?: string }).synopsis ?? TspodCommand.synopsis;
  s += `Usage:\n  tspod ${path} ${synopsis}\n\n`;
  const aliases = (cls.paths ?? []).map((p) => p.join(' ')).filter((p) => p !== path);
  if (aliases.length) s += `Aliases:\n  ${[path, ...aliases].join(', ')}\n\n`;
  const examples = def?.examples ?? [];
  if (examples.length) {
    s += 'Examples:\n';
    for (const [, line] of examples) s += `  ${line}\n`;
    s += '\n';
  }
  const options = (def?.options ?? []).filter((o) => o.definition.includes('-'));
  if (options.length) {
    s += 'Options:\n';
    const rows = options.map((o) => [optionColumn(o.definition), (o.description ?? '').replace(/\n/g, ' ')] as const);
    const w = Math.max(...rows.map(([c]) => c.length));
    for (const [c, d] of rows) s += `  ${c.padEnd(w)}   ${d}\n`;
  }
  return s;
}
