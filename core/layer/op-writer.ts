// Batches the op stream into large writes to the unpacker and keeps track of backpressure.
//
// Op headers and small file contents are copied into a slab and sent as one write; large
// content pieces go out as they are (zero copy: they are slices of the decompressor's output,
// which is never reused). A region of the slab, once written, is never touched again.

import { opSize, writeOp, type Op } from './ops';

const SLAB = 256 * 1024;
/** Content pieces at least this large are written directly instead of being copied. */
const DIRECT = 32 * 1024;

export class OpWriter {
  private slab = Buffer.allocUnsafe(SLAB);
  private start = 0;
  private end = 0;
  /** A write returned false: wait for 'drain' before producing more. */
  blocked = false;

  constructor(private readonly stream: NodeJS.WritableStream) {}

  /** Appends an op header; names are binary strings (see OpEncoding). */
  op(op: Op): void {
    const n = opSize(op, 'latin1');
    if (n > this.slab.length - this.end) this.renew(n);
    this.end += writeOp(op, this.slab, this.end, 'latin1');
  }

  /** Appends file content that belongs to the last 'f' op. */
  data(piece: Buffer): void {
    if (piece.length >= DIRECT) {
      this.flush();
      this.send(piece);
      return;
    }
    if (piece.length > this.slab.length - this.end) this.renew(piece.length);
    piece.copy(this.slab, this.end);
    this.end += piece.length;
  }

  /** Bytes appended but not yet written. */
  get pending(): number {
    return this.end - this.start;
  }

  flush(): void {
    if (this.end === this.start) return;
    this.send(this.slab.subarray(this.start, this.end));
    this.start = this.end;
  }

  private renew(min: number): void {
    this.flush();
    this.slab = Buffer.allocUnsafe(Math.max(SLAB, min));
    this.start = this.end = 0;
  }

  private send(b: Buffer): void {
    if (!this.stream.write(b)) this.blocked = true;
  }
}
