// A client of the monitor's attach socket (userns-helper/PROTOCOL.md, "The attach socket"):
// frames of `u8 type, u32 length (little-endian), payload` both ways.

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import { TspodError } from '../errors';
import type { Store } from '../store/store';
import { loadContainer, type Container } from './record';
import { attachSocketPath } from './start';

export const OUT_STDOUT = 1;
export const OUT_STDERR = 2;
export const OUT_EXIT = 3;
export const OUT_REPLY = 4;
export const IN_STDIN = 0;
export const IN_CONTROL = 1;

export function frame(type: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const h = Buffer.alloc(5);
  h.writeUInt8(type, 0);
  h.writeUInt32LE(body.length, 1);
  return Buffer.concat([h, body]);
}

/** Splits a byte stream into frames. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer, onFrame: (type: number, payload: Buffer) => void): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 5) {
      const len = this.buf.readUInt32LE(1);
      if (this.buf.length < 5 + len) break;
      onFrame(this.buf[0], this.buf.subarray(5, 5 + len));
      this.buf = this.buf.subarray(5 + len);
    }
  }
}

export function connectAttach(path: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(path);
    sock.once('connect', () => resolve(sock));
    sock.once('error', (e) => reject(new TspodError(`connecting to the container's monitor: ${e.message}`)));
  });
}

/** Sends one control command (`kill 15`, `resize 24 80`) and waits for the monitor's reply. */
export async function control(path: string, command: string): Promise<void> {
  const sock = await connectAttach(path);
  await new Promise<void>((resolve, reject) => {
    const reader = new FrameReader();
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      sock.destroy();
      if (err) reject(err);
      else resolve();
    };
    sock.on('data', (d: Buffer) =>
      reader.push(d, (type, payload) => {
        if (type === OUT_REPLY) {
          const text = payload.toString();
          finish(text === 'ok' ? undefined : new TspodError(text.replace(/^error: /, '')));
        }
        // an exit frame means the container ended meanwhile: the command has nothing left to do
        if (type === OUT_EXIT) finish();
      }),
    );
    sock.on('error', (e) => finish(new TspodError(`talking to the container's monitor: ${e.message}`)));
    sock.on('close', () => finish());
    sock.write(frame(IN_CONTROL, command));
  });
}

// ---------------------------------------------------------------------------------------------
// An attach session: `tspod attach`.

/**
 * podman's --detach-keys: comma-separated keys, each one character or `ctrl-X` (X one of a-z,
 * @, [, \, ], ^, _). "" disables detaching.
 */
export function parseDetachKeys(spec: string): number[] {
  if (spec === '') return [];
  return spec.split(',').map((key) => {
    const ctrl = /^ctrl-(.)$/.exec(key);
    if (ctrl) {
      // The control code of X is its position in this row of ASCII (ctrl-@ is 0, ctrl-a 1).
      const code = '@abcdefghijklmnopqrstuvwxyz[\\]^_'.indexOf(ctrl[1]);
      if (code >= 0) return code;
    } else if (key.length === 1) {
      return key.charCodeAt(0);
    }
    throw new TspodError(`invalid detach keys "${spec}": use single characters or ctrl-<value> (a-z, @, ^, [, \\, ], _), separated by commas`);
  });
}

/**
 * Watches typed input for the detach sequence. Bytes that may begin it are held back until it
 * is clear whether they do; feed() returns what is to be sent on, and whether to detach.
 */
export class DetachKeys {
  private matched = 0;
  constructor(private readonly keys: number[]) {}

  feed(chunk: Buffer): { send: Buffer; detach: boolean } {
    if (this.keys.length === 0) return { send: chunk, detach: false };
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) return { send: Buffer.from(out), detach: true };
        continue;
      }
      // Not the sequence after all: what was held goes on, then this byte may start it anew.
      out.push(...this.keys.slice(0, this.matched));
      this.matched = 0;
      if (b === this.keys[0]) this.matched = 1;
      else out.push(b);
    }
    return { send: Buffer.from(out), detach: false };
  }
}

export interface AttachOptions {
  /** Send our stdin to the container's (it was started with -i, and --no-stdin was not given). */
  stdin: boolean;
  /** The container has a terminal: raw mode and resizes, no separate stderr. */
  tty: boolean;
  detachKeys: number[];
  /** Pass SIGINT, SIGTERM and the like on to the container (without a terminal). */
  sigProxy: boolean;
}

export interface AttachStreams {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: NodeJS.WritableStream & { isTTY?: boolean; rows?: number; columns?: number };
  stderr: NodeJS.WritableStream;
}

export interface AttachResult {
  /** The container's exit code, when it ended while we were attached. */
  exitCode?: number;
  /** The detach keys were typed. */
  detached: boolean;
}

const PROXIED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;

/** Attaches to the monitor at socketPath until the container ends or the user detaches. */
export async function attachSession(socketPath: string, opts: AttachOptions, io: AttachStreams): Promise<AttachResult> {
  const sock = await connectAttach(socketPath);
  const cleanups: Array<() => void> = [];
  try {
    return await new Promise<AttachResult>((resolve, reject) => {
      let exitCode: number | undefined;
      const reader = new FrameReader();
      sock.on('data', (d: Buffer) =>
        reader.push(d, (type, payload) => {
          if (type === OUT_STDOUT) io.stdout.write(payload);
          else if (type === OUT_STDERR) io.stderr.write(payload);
          else if (type === OUT_EXIT) {
            try {
              exitCode = (JSON.parse(payload.toString()) as { exitCode: number }).exitCode;
            } catch {
              exitCode = undefined;
            }
          }
        }),
      );
      sock.on('error', (e) => reject(new TspodError(`attach socket: ${e.message}`)));
      sock.on('close', () => resolve({ exitCode, detached: false }));

      if (opts.tty && io.stdout.isTTY) {
        const resize = (): void => {
          if (io.stdout.rows && io.stdout.columns) sock.write(frame(IN_CONTROL, `resize ${io.stdout.rows} ${io.stdout.columns}`));
        };
        resize();
        process.on('SIGWINCH', resize);
        cleanups.push(() => process.off('SIGWINCH', resize));
      }
      if (opts.sigProxy && !opts.tty) {
        const proxy = (sig: NodeJS.Signals): void => {
          const n = os.constants.signals[sig];
          sock.write(frame(IN_CONTROL, `kill ${n}`));
        };
        for (const s of PROXIED) process.on(s, proxy);
        cleanups.push(() => {
          for (const s of PROXIED) process.off(s, proxy);
        });
      }
      if (opts.stdin) {
        const input = io.stdin;
        if (opts.tty && input.isTTY && input.setRawMode) {
          input.setRawMode(true);
          cleanups.push(() => input.setRawMode?.(false));
        }
        const keys = new DetachKeys(opts.detachKeys);
        const onData = (d: Buffer | string): void => {
          const { send, detach } = keys.feed(typeof d === 'string' ? Buffer.from(d) : d);
          if (send.length && !sock.write(frame(IN_STDIN, send))) {
            input.pause();
            sock.once('drain', () => input.resume());
          }
          if (detach) {
            sock.end();
            resolve({ detached: true });
          }
        };
        // Our end of input is not the container's: it keeps its stdin for later attaches.
        const onEnd = (): void => undefined;
        input.on('data', onData);
        input.on('end', onEnd);
        input.resume();
        cleanups.push(() => {
          input.off('data', onData);
          input.off('end', onEnd);
          input.pause();
        });
      }
    });
  } finally {
    for (const c of cleanups.reverse()) c();
    sock.destroy();
  }
}

export interface AttachFlags {
  noStdin: boolean;
  /** --detach-keys, podman's format; "" disables. */
  detachKeys: string;
  sigProxy: boolean;
}

/**
 * `tspod attach`: the output of a running (detached) container, and its stdin when it was
 * started with -i. Returns the container's exit code, or 0 when the user detached.
 */
export async function attachContainer(store: Store, c: Container, flags: AttachFlags, io: AttachStreams): Promise<number> {
  const keys = parseDetachKeys(flags.detachKeys);
  if (c.state.status !== 'running' && c.state.status !== 'stopping') {
    throw new TspodError('you can only attach to running containers');
  }
  const socket = attachSocketPath(c);
  if (!fs.existsSync(socket)) {
    throw new TspodError(`container ${c.config.name} runs in the foreground of another tspod: it can only be attached to when started with -d`);
  }
  const result = await attachSession(socket, { stdin: c.config.stdin && !flags.noStdin, tty: c.config.tty, detachKeys: keys, sigProxy: flags.sigProxy }, io);
  if (result.detached) return 0;
  if (result.exitCode !== undefined) return result.exitCode;
  // The monitor went away without saying how the container ended: what is on record.
  for (let delay = 10; delay < 2000; delay *= 2) {
    const now = loadContainer(store, c.config.id);
    if (!now || (now.state.status !== 'running' && now.state.status !== 'stopping')) return now?.state.exitCode ?? 125;
    await new Promise((r) => setTimeout(r, delay));
  }
  throw new TspodError(`the connection to the monitor of container ${c.config.name} was lost`);
}
