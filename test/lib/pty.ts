// Runs a command as a test user on a pseudo-terminal, for what only a terminal shows (tspod run -it,
// prompts, progress bars). Python's pty module owns the terminal; it runs as the user, so the
// command's controlling terminal is the user's own.

import { runAs, RunOptions } from './run';

export interface PtyStep {
  /** Wait until this text has appeared in the output (after the previous step's match). */
  expect?: string;
  /** Then type this. */
  send?: string;
  /** Then set the terminal size, which sends SIGWINCH to its foreground process group. */
  resize?: [rows: number, cols: number];
}

export interface PtyOptions extends Omit<RunOptions, 'input'> {
  steps?: PtyStep[];
  rows?: number;
  cols?: number;
}

export interface PtyResult {
  code: number | null;
  signal: number | null;
  /** Everything the terminal showed, with \r\n line ends as a terminal has them. */
  output: string;
  timedOut: boolean;
  /** The first step whose expected text never appeared, if any. */
  stuckAt?: number;
}

const DRIVER = String.raw`
import base64, json, os, pty, select, signal, struct, sys, termios, fcntl, time
spec = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', spec['rows'], spec['cols'], 0, 0))
    try:
        os.execvp(spec['argv'][0], spec['argv'])
    finally:
        os._exit(127)
steps, out, seen, step = spec['steps'], b'', 0, 0
deadline = time.monotonic() + spec['timeout'] / 1000
timed_out = False
while True:
    while step < len(steps):
        want = steps[step].get('expect')
        if want is not None:
            at = out.find(want.encode(), seen)
            if at < 0:
                break
            seen = at + len(want.encode())
        if steps[step].get('send') is not None:
            os.write(fd, steps[step]['send'].encode())
        if steps[step].get('resize') is not None:
            r, c = steps[step]['resize']
            fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', r, c, 0, 0))
        step += 1
    left = deadline - time.monotonic()
    if left <= 0:
        timed_out = True
        os.kill(pid, signal.SIGKILL)
        break
    r, _, _ = select.select([fd], [], [], min(left, 0.05))
    if not r:
        continue
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
print(json.dumps({
    'code': os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
    'signal': os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
    'output': base64.b64encode(out).decode(),
    'timedOut': timed_out,
    'stuckAt': step if step < len(steps) else None,
}))
`;

export async function withPty(user: string, argv: string[], opts: PtyOptions = {}): Promise<PtyResult> {
  const timeout = opts.timeout ?? 60_000;
  const spec = { argv, steps: opts.steps ?? [], rows: opts.rows ?? 24, cols: opts.cols ?? 80, timeout };
  // The driver stops the command itself at `timeout`; runAs's own limit is only a backstop.
  const r = await runAs(user, ['/usr/bin/python3', '-c', DRIVER, JSON.stringify(spec)], {
    ...opts,
    env: { TERM: 'xterm', ...opts.env },
    timeout: timeout + 10_000,
  });
  if (r.code !== 0) throw new Error(`pty driver failed (${r.code ?? r.signal}): ${r.stderr.trim()}`);
  const res = JSON.parse(r.stdout) as Omit<PtyResult, 'output' | 'stuckAt'> & { output: string; stuckAt: number | null };
  return {
    code: res.code,
    signal: res.signal,
    output: Buffer.from(res.output, 'base64').toString('utf8'),
    timedOut: res.timedOut,
    ...(res.stuckAt === null ? {} : { stuckAt: res.stuckAt }),
  };
}
