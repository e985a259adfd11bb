// Pull progress: podman's plain lines when stderr is not a terminal; on a terminal, one live
// line per layer under a spinner (ora), coloured unless NO_COLOR is set.

import type { PullProgress } from '../core/image/pull';
import type { Descriptor } from '../core/registry';

function short(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

export function plainPullProgress(stderr: NodeJS.WritableStream): PullProgress {
  return {
    trying: (reference) => {
      stderr.write(`Trying to pull ${reference}...\n`);
    },
    resolved: () => {
      stderr.write('Getting image source signatures\n');
    },
    layerStart: (desc, skipped) => {
      stderr.write(`Copying blob ${desc.digest}${skipped ? ' skipped: already exists' : ''}\n`);
    },
    configCopied: (digest) => stderr.write(`Copying config ${digest}\n`),
    storing: () => stderr.write('Writing manifest to image destination\nStoring signatures\n'),
  };
}

function human(n: number): string {
  if (n < 1000) return `${n}B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  do {
    v /= 1000;
    u++;
  } while (v >= 1000 && u < units.length - 1);
  return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)}${units[u]}`;
}

interface Row {
  desc: Descriptor;
  bytes: number;
  state: 'waiting' | 'copying' | 'done' | 'skipped';
}

/** A live display; call finish() when the pull ends (or fails). */
export async function ttyPullProgress(stderr: NodeJS.WriteStream, env: NodeJS.ProcessEnv): Promise<PullProgress & { finish(ok: boolean): void }> {
  const [{ default: ora }, { Chalk }] = await Promise.all([import('ora'), import('chalk')]);
  // Colour only on a terminal that wants it (NO_COLOR, TERM=dumb turn it off).
  const style = new Chalk({ level: env.NO_COLOR !== undefined || env.TERM === 'dumb' ? 0 : 1 });
  let title = 'Resolving';
  const rows = new Map<string, Row>();
  let configLine = '';
  let spinner: ReturnType<typeof ora> | undefined;
  let pending = false;
  const render = () => {
    pending = false;
    const lines = [title];
    for (const r of rows.values()) {
      const id = short(r.desc.digest);
      const total = r.desc.size;
      let status: string;
      switch (r.state) {
        case 'skipped':
          status = style.dim('already exists');
          break;
        case 'done':
          status = style.green(`done ${human(total)}`);
          break;
        case 'waiting':
          status = style.dim('waiting');
          break;
        default: {
          const pct = total > 0 ? Math.min(100, Math.floor((r.bytes / total) * 100)) : 0;
          const width = 20;
          const fill = Math.round((pct / 100) * width);
          status = `[${style.cyan('='.repeat(fill))}${' '.repeat(width - fill)}] ${human(r.bytes)} / ${human(total)}`;
        }
      }
      lines.push(`  Copying blob ${id} ${status}`);
    }
    if (configLine) lines.push(`  ${configLine}`);
    if (spinner) spinner.text = lines.join('\n');
  };
  const schedule = () => {
    if (pending) return;
    pending = true;
    setTimeout(render, 80).unref();
  };
  return {
    resolved: ({ reference, layers }) => {
      title = `Pulling ${style.bold(reference)}`;
      spinner = ora({ stream: stderr, text: title, discardStdin: false }).start();
      for (const d of layers) rows.set(d.digest, { desc: d, bytes: 0, state: 'waiting' });
      schedule();
    },
    layerStart: (desc, skipped) => {
      const r = rows.get(desc.digest);
      if (r) r.state = skipped ? 'skipped' : 'copying';
      schedule();
    },
    layerBytes: (desc, bytes) => {
      const r = rows.get(desc.digest);
      if (r) r.bytes = bytes;
      schedule();
    },
    layerDone: (desc) => {
      const r = rows.get(desc.digest);
      if (r) r.state = 'done';
      schedule();
    },
    configCopied: (digest) => {
      configLine = `Copying config ${short(digest)} ${style.green('done')}`;
      schedule();
    },
    storing: () => {
      title = title.replace(/^Pulling/, 'Storing');
      schedule();
    },
    finish: (ok) => {
      if (!spinner) return;
      render();
      if (ok) spinner.stopAndPersist({ symbol: style.green('✔'), text: spinner.text.replace(/^Storing/, 'Pulled') });
      else spinner.stopAndPersist({ symbol: style.red('✖'), text: spinner.text });
    },
  };
}

/**
 * Whether the live display can work: a terminal that knows its width (a pseudo-terminal nobody
 * sized reports 0 columns, and redrawing "n lines" then never ends).
 */
export function canShowLive(stderr: NodeJS.WriteStream): boolean {
  return !!stderr.isTTY && (stderr.columns ?? 0) > 0;
}

/** The right display for a pull that another verb (run, create) starts. */
export async function pullProgressFor(stderr: NodeJS.WriteStream, env: NodeJS.ProcessEnv): Promise<PullProgress> {
  return canShowLive(stderr) ? ttyPullProgress(stderr, env) : plainPullProgress(stderr);
}
