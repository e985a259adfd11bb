// Turns a tar stream, fed in chunks of any size, into ops of the unpacker's op stream.
//
// One pass, no buffering of file contents: a file's bytes go to the writer as they arrive. Only
// the small pieces that must be whole are collected: a header block split across two chunks,
// and pax / GNU long-name bodies (at most MAX_META bytes).

import { TspodError } from '../errors';
import { cleanPath, showName, whiteout } from './entry-path';
import type { OpWriter } from './op-writer';
import type { Op, OpKind } from './ops';
import { BLOCK, decodeHeader, HeaderError, isZero, parsePax, T, type PaxRecords, type TarHeader } from './tar-header';

/** Largest pax or GNU long-name body accepted (Go's archive/tar has the same limit). */
const MAX_META = 1024 * 1024;

/**
 * Extended attributes that a layer may not set: the overlay's and the engine's own (a layer could
 * otherwise change how the overlay reads its directories) and host-specific ones (SELinux labels,
 * NFSv4 ACLs), as umoci and containers/storage keep them out. The helper refuses the overlay
 * ones too; dropping them here means one warning instead of a count.
 */
const RESERVED_XATTR = /^(?:trusted\.overlay\.|user\.overlay\.|user\.fuseoverlayfs\.|user\.containers\.|security\.selinux$|system\.nfs4_acl$)/;

const U32 = 0xffffffff;

export interface TarOpsContext {
  /** A warning, keyed so that the caller can say it once. */
  warn(key: string, message: string): void;
}

type State = 'header' | 'content' | 'skip' | 'meta' | 'end';

export class TarToOps {
  private state: State = 'header';
  /** A header block that arrived in pieces. */
  private readonly block = Buffer.alloc(BLOCK);
  private blockFill = 0;
  /** Bytes left of the current content, skipped data or meta body. */
  private remain = 0;
  /** Padding to the next block after the current content or meta body. */
  private padding = 0;
  private meta = Buffer.alloc(0);
  private metaFill = 0;
  private metaType = 0;
  /** Extended header records and GNU long names waiting for the entry they describe. */
  private pax: PaxRecords = {};
  private longName: string | undefined;
  private longLink: string | undefined;
  /** A valid header was seen: from then on, damage is corruption, not "not a tar archive". */
  private started = false;
  private lastName = '';

  constructor(
    private readonly out: OpWriter,
    private readonly ctx: TarOpsContext,
  ) {}

  push(chunk: Buffer): void {
    const len = chunk.length;
    let pos = 0;
    while (pos < len) {
      switch (this.state) {
        case 'header':
          if (this.blockFill === 0 && len - pos >= BLOCK) {
            this.header(chunk, pos);
            pos += BLOCK;
          } else {
            const n = Math.min(BLOCK - this.blockFill, len - pos);
            chunk.copy(this.block, this.blockFill, pos, pos + n);
            this.blockFill += n;
            pos += n;
            if (this.blockFill === BLOCK) {
              this.blockFill = 0;
              this.header(this.block, 0);
            }
          }
          break;
        case 'content': {
          const n = Math.min(this.remain, len - pos);
          this.out.data(chunk.subarray(pos, pos + n));
          pos += n;
          this.remain -= n;
          if (this.remain === 0) this.skip(this.padding);
          break;
        }
        case 'skip': {
          const n = Math.min(this.remain, len - pos);
          pos += n;
          this.remain -= n;
          if (this.remain === 0) this.state = 'header';
          break;
        }
        case 'meta': {
          const n = Math.min(this.remain, len - pos);
          chunk.copy(this.meta, this.metaFill, pos, pos + n);
          this.metaFill += n;
          pos += n;
          this.remain -= n;
          if (this.remain === 0) {
            this.applyMeta();
            this.skip(this.padding);
          }
          break;
        }
        case 'end':
          // Only zero padding may follow the end-of-archive marker: anything else would be a
          // second archive that other tools might read and this one would not.
          if (!isZero(chunk, pos, len)) throw new TspodError('unexpected data after the end of the tar archive');
          pos = len;
          break;
      }
    }
  }

  /** The input ended: checks that it ended where an archive may end. */
  end(): void {
    if (this.state === 'end') return;
    // Go's reader (so docker and podman) accepts an archive without the end-of-archive blocks.
    if (this.state === 'header' && isZero(this.block, 0, this.blockFill)) return;
    if (!this.started) throw new TspodError('not a tar archive');
    throw new TspodError(`truncated tar archive${this.where()}`);
  }

  /** Where in the archive, for messages. */
  private where(): string {
    return this.lastName ? ` after entry ${showName(this.lastName)}` : '';
  }

  private skip(n: number): void {
    this.remain = n;
    this.state = n > 0 ? 'skip' : 'header';
  }

  private header(buf: Buffer, off: number): void {
    let h: TarHeader | undefined;
    try {
      h = decodeHeader(buf, off);
    } catch (err) {
      if (!(err instanceof HeaderError)) throw err;
      if (!this.started) throw new TspodError('not a tar archive');
      throw new TspodError(`corrupt tar header${this.where()}: ${err.message}`);
    }
    if (!h) {
      this.state = 'end';
      return;
    }
    this.started = true;
    this.padding = (BLOCK - (h.size % BLOCK)) % BLOCK;
    switch (h.typeflag) {
      case T.PAX:
      case T.PAX_SOLARIS:
      case T.GNU_LONGNAME:
      case T.GNU_LONGLINK:
        if (h.size > MAX_META) throw new TspodError(`oversized extended header (${h.size} bytes)${this.where()}`);
        this.meta = Buffer.allocUnsafe(h.size);
        this.metaFill = 0;
        this.metaType = h.typeflag;
        this.remain = h.size;
        this.state = 'meta';
        if (h.size === 0) {
          this.applyMeta();
          this.skip(0);
        }
        return;
      case T.PAX_GLOBAL:
        // Global pax headers are ignored, as docker, podman and containerd do (Go's reader
        // hands them over as entries of their own and they skip them).
        this.skip(h.size + this.padding);
        return;
      default:
        this.entry(h);
    }
  }

  private applyMeta(): void {
    const body = this.meta;
    this.meta = Buffer.alloc(0);
    if (this.metaType === T.PAX || this.metaType === T.PAX_SOLARIS) {
      try {
        parsePax(body, this.pax);
      } catch (err) {
        if (!(err instanceof HeaderError)) throw err;
        throw new TspodError(`corrupt pax header${this.where()}: ${err.message}`);
      }
      return;
    }
    const nul = body.indexOf(0);
    const value = body.toString('latin1', 0, nul < 0 ? body.length : nul);
    if (this.metaType === T.GNU_LONGNAME) this.longName = value || undefined;
    else this.longLink = value || undefined;
  }

  private entry(h: TarHeader): void {
    const pax = this.pax;
    this.pax = {};
    // As in Go's reader, a GNU long name wins over a pax path.
    const name = this.longName ?? pax.path ?? h.name;
    const link = this.longLink ?? pax.linkpath ?? h.linkname;
    this.longName = this.longLink = undefined;
    this.lastName = name;
    const size = pax.size ?? h.size;
    const padding = (BLOCK - (size % BLOCK)) % BLOCK;

    if (pax.sparse || h.typeflag === T.GNU_SPARSE) {
      throw new TspodError(`entry ${showName(name)} is a sparse file, which is not supported: rebuild the image without sparse files`);
    }
    if (name.includes('\0')) throw new TspodError(`entry ${showName(name)} has a NUL byte in its name`);
    if (link.includes('\0')) throw new TspodError(`entry ${showName(name)} has a NUL byte in its link target`);

    // Which op, and how many data bytes follow the header. Links, devices, directories and
    // fifos carry none whatever their size field says (Go's reader reads them the same way).
    let kind: OpKind | undefined;
    let dataBytes = 0;
    switch (h.typeflag) {
      case T.OLDFILE:
        kind = name.endsWith('/') ? 'd' : 'f';
        dataBytes = kind === 'f' ? size : 0;
        break;
      case T.FILE:
      case T.CONTIGUOUS:
        kind = 'f';
        dataBytes = size;
        break;
      case T.LINK:
        kind = 'h';
        break;
      case T.SYMLINK:
        kind = 'l';
        break;
      case T.CHAR:
        kind = 'c';
        break;
      case T.BLOCK:
        kind = 'b';
        break;
      case T.DIR:
        kind = 'd';
        break;
      case T.FIFO:
        kind = 'p';
        break;
      case T.GNU_DUMPDIR: // a directory whose data lists its contents at dump time
        kind = 'd';
        dataBytes = size;
        break;
      default:
        dataBytes = size;
    }

    const path = cleanPath(name);
    if (path === undefined) throw new TspodError(`entry ${showName(name)} leads outside the layer`);
    if (path === '' && kind !== 'd') throw new TspodError(`entry ${showName(name)} would replace the layer root with a non-directory`);

    const wh = whiteout(path);
    if (wh.kind === 'invalid') throw new TspodError(`entry ${showName(name)} ${wh.reason}`);
    if (wh.kind !== 'none') {
      if (wh.kind === 'whiteout') this.out.op({ kind: 'w', path: wh.path });
      else if (wh.kind === 'opaque') this.out.op({ kind: 'o', path: wh.path });
      this.skip(dataBytes > 0 ? dataBytes + padding : 0);
      return;
    }
    if (kind === undefined) {
      const flag = h.typeflag >= 0x20 && h.typeflag < 0x7f ? String.fromCharCode(h.typeflag) : `\\x${h.typeflag.toString(16)}`;
      this.ctx.warn('layer-entry-type', `skipping entry ${showName(name)} of unsupported type '${flag}'`);
      this.skip(dataBytes > 0 ? dataBytes + padding : 0);
      return;
    }

    if (kind === 'h') {
      const target = cleanPath(link);
      if (target === undefined) throw new TspodError(`hard link ${showName(name)} to ${showName(link)} leads outside the layer`);
      if (target === '') throw new TspodError(`hard link ${showName(name)} points at the layer root`);
      // A hard link has no metadata of its own: it is the target's inode.
      this.out.op({ kind: 'h', path, link: target });
      this.state = 'header';
      return;
    }
    if (kind === 'l' && link === '') throw new TspodError(`symbolic link ${showName(name)} has an empty target`);

    const uid = pax.uid ?? h.uid;
    const gid = pax.gid ?? h.gid;
    if (uid > U32 || gid > U32 || h.devmajor > U32 || h.devminor > U32) {
      throw new TspodError(`entry ${showName(name)} has an owner or device number out of range`);
    }
    const op: Op = {
      kind,
      path,
      mode: h.mode & 0o7777,
      uid,
      gid,
      mtimeSec: pax.mtimeSec ?? h.mtime,
      mtimeNsec: pax.mtimeNsec ?? 0,
    };
    if (pax.xattrs) op.xattrs = this.xattrs(pax.xattrs, name);
    if (kind === 'l') op.link = link;
    if (kind === 'c' || kind === 'b') {
      op.devmajor = h.devmajor;
      op.devminor = h.devminor;
    }
    if (kind === 'f') op.size = size;
    this.out.op(op);

    if (kind === 'f' && size > 0) {
      this.remain = size;
      this.padding = padding;
      this.state = 'content';
    } else {
      this.skip(dataBytes > 0 ? dataBytes + padding : 0);
    }
  }

  private xattrs(all: Map<string, Buffer>, entry: string): Array<[string, Buffer]> {
    const kept: Array<[string, Buffer]> = [];
    for (const [name, value] of all) {
      if (RESERVED_XATTR.test(name)) {
        this.ctx.warn('layer-reserved-xattr', `ignoring extended attribute ${showName(name)} of entry ${showName(entry)}: it is reserved for the host or the overlay`);
      } else if (name === '' || name.includes('\0')) {
        this.ctx.warn('layer-bad-xattr', `ignoring an extended attribute of entry ${showName(entry)} with a malformed name ${showName(name)}`);
      } else {
        kept.push([name, value]);
      }
    }
    return kept;
  }
}
