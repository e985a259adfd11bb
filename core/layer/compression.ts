// Layer compression: detection by magic bytes, and the zstd frame splitter that Node's zstd
// decompressor needs.

import { TspodError } from '../errors';

export type Compression = 'gzip' | 'zstd' | 'none';

const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;

/** gzip (1f 8b), zstd (28 b5 2f fd, or a skippable frame), anything else is taken as plain tar. */
export function detectCompression(firstBytes: Buffer): Compression {
  if (firstBytes.length >= 2 && firstBytes[0] === 0x1f && firstBytes[1] === 0x8b) return 'gzip';
  if (firstBytes.length >= 4) {
    const magic = firstBytes.readUInt32LE(0);
    if (magic === ZSTD_MAGIC || (magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) return 'zstd';
  }
  return 'none';
}

type FrameState = 'magic' | 'skippable-size' | 'descriptor' | 'frame-header' | 'block-header' | 'body' | 'checksum';

/**
 * Cuts a zstd stream into pieces that never extend past the end of a frame.
 *
 * A zstd stream may hold many frames (zstd:chunked layers have one per file, plus skippable
 * frames for their table of contents). Node's decompressor decodes frame after frame as long as
 * no single write runs past the end of one; when a write does, it drops the rest of that write
 * and ends the output. Feeding it these pieces keeps every frame. Only frame and block headers
 * are read here, so it costs next to nothing.
 */
export class ZstdFrameSplitter {
  private state: FrameState = 'magic';
  /** Header bytes collected so far (fields may be split across chunks). */
  private readonly field = Buffer.alloc(4);
  private fieldFill = 0;
  private fieldSize = 4;
  /** Bytes left to pass over in 'frame-header', 'body', 'checksum' or a skippable frame. */
  private remain = 0;
  private checksum = false;
  private lastBlock = false;
  private skippable = false;

  /** The pieces of `chunk`, cut after each frame's last byte. */
  split(chunk: Buffer): Buffer[] {
    const pieces: Buffer[] = [];
    let start = 0;
    let pos = 0;
    while (pos < chunk.length) {
      if (this.remain > 0) {
        const n = Math.min(this.remain, chunk.length - pos);
        pos += n;
        this.remain -= n;
        if (this.remain === 0) this.afterSpan();
      } else {
        this.field[this.fieldFill++] = chunk[pos++];
        if (this.fieldFill === this.fieldSize) {
          this.fieldFill = 0;
          this.afterField();
        }
      }
      if (this.state === 'magic' && this.fieldFill === 0 && this.remain === 0 && pos > start) {
        pieces.push(chunk.subarray(start, pos));
        start = pos;
      }
    }
    if (pos > start) pieces.push(chunk.subarray(start, pos));
    return pieces;
  }

  /** The stream ended: it must end between frames. */
  end(): void {
    if (this.state !== 'magic' || this.fieldFill !== 0) throw new TspodError('corrupt zstd stream: unexpected end of file');
  }

  private expect(state: FrameState, size: number): void {
    this.state = state;
    this.fieldSize = size;
  }

  private afterField(): void {
    const f = this.field;
    switch (this.state) {
      case 'magic': {
        const magic = f.readUInt32LE(0);
        if (magic === ZSTD_MAGIC) {
          this.expect('descriptor', 1);
        } else if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
          this.expect('skippable-size', 4);
        } else {
          throw new TspodError('corrupt zstd stream: unknown frame magic');
        }
        return;
      }
      case 'skippable-size':
        this.skippable = true;
        this.span(f.readUInt32LE(0));
        return;
      case 'descriptor': {
        const d = f[0];
        if (d & 0x08) throw new TspodError('corrupt zstd stream: reserved bit set in a frame header');
        const single = (d & 0x20) !== 0;
        const fcs = [single ? 1 : 0, 2, 4, 8][d >> 6];
        const dict = [0, 1, 2, 4][d & 3];
        this.checksum = (d & 0x04) !== 0;
        this.state = 'frame-header';
        this.span((single ? 0 : 1) + dict + fcs);
        return;
      }
      case 'block-header': {
        const h = f[0] | (f[1] << 8) | (f[2] << 16);
        const type = (h >> 1) & 3;
        if (type === 3) throw new TspodError('corrupt zstd stream: reserved block type');
        this.lastBlock = (h & 1) === 1;
        this.state = 'body';
        this.span(type === 1 ? 1 : h >>> 3); // an RLE block stores its one byte
        return;
      }
    }
  }

  /** Passes over `n` bytes; a zero-length span ends at once. */
  private span(n: number): void {
    this.remain = n;
    if (n === 0) this.afterSpan();
  }

  private afterSpan(): void {
    if (this.skippable) {
      this.skippable = false;
      this.expect('magic', 4);
      return;
    }
    switch (this.state) {
      case 'frame-header':
        this.expect('block-header', 3);
        return;
      case 'body':
        if (!this.lastBlock) this.expect('block-header', 3);
        else if (this.checksum) {
          this.state = 'checksum';
          this.span(4);
        } else this.expect('magic', 4);
        return;
      case 'checksum':
        this.expect('magic', 4);
        return;
    }
  }
}
