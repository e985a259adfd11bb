// A client of the monitor's attach socket (userns-helper/PROTOCOL.md, "The attach socket"):
// frames of `u8 type, u32 length (little-endian), payload` both ways.

import * as net from 'node:net';
import { TspodError } from '../errors';

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
