// Go's text/tabwriter (elastic tabstops), as podman's tables use it:
// tabwriter.NewWriter(w, 12, 2, 2, ' ', tabwriter.StripEscape) — minimum column width 12,
// two spaces of padding, space padding, left aligned.
//
// The rules that shape podman's output, kept exactly:
//   - a cell is text terminated by a tab; the text after a line's last tab is not part of any
//     column, so it is never padded and lines carry no trailing spaces;
//   - a column is a run of consecutive lines that have a cell at that position, and its width is
//     the widest cell plus padding, at least minwidth; a line with fewer cells ends the run;
//   - a line without any tab flushes everything before it, so it also ends every column;
//   - widths count Unicode code points (Go counts runes), not UTF-16 units or terminal cells.
// The escape and HTML-filter modes, and tab padding, are not needed by podman and are left out.

export interface TabwriterOptions {
  minwidth: number;
  padding: number;
  padchar: string;
  /** Pad on the left of each cell instead of the right. */
  alignRight?: boolean;
  /** Columns whose cells are all empty (and tab-terminated by \v) take no width. */
  discardEmptyColumns?: boolean;
}

export const PODMAN_TABWRITER: TabwriterOptions = { minwidth: 12, padding: 2, padchar: ' ' };

interface Cell {
  text: string;
  width: number;
  htab: boolean;
}

function runeCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** A tabwriter.Writer: write() text in any pieces, then flush() for the aligned result. */
export class Tabwriter {
  private readonly opts: TabwriterOptions;
  private out = '';
  private lines: Cell[][] = [[]];
  private cell = '';
  private widths: number[] = [];

  constructor(opts: TabwriterOptions = PODMAN_TABWRITER) {
    this.opts = opts;
  }

  write(text: string): void {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (ch !== '\t' && ch !== '\v' && ch !== '\n' && ch !== '\f') continue;
      this.cell += text.slice(start, i);
      start = i + 1;
      const ncells = this.terminateCell(ch === '\t');
      if (ch === '\n' || ch === '\f') {
        this.lines.push([]);
        // A line with a single cell cannot affect later columns, so everything so far is final.
        if (ch === '\f' || ncells === 1) this.flushBuffered();
      }
    }
    this.cell += text.slice(start);
  }

  /** Formats what is buffered and returns all output produced so far. */
  flush(): string {
    this.flushBuffered();
    const out = this.out;
    this.out = '';
    return out;
  }

  private terminateCell(htab: boolean): number {
    const line = this.lines[this.lines.length - 1];
    line.push({ text: this.cell, width: runeCount(this.cell), htab });
    this.cell = '';
    return line.length;
  }

  private flushBuffered(): void {
    if (this.cell.length > 0) this.terminateCell(false);
    this.format(0, this.lines.length);
    this.lines = [[]];
    this.widths = [];
    this.cell = '';
  }

  private format(line0: number, line1: number): void {
    const column = this.widths.length;
    for (let cur = line0; cur < line1; cur++) {
      if (column >= this.lines[cur].length - 1) continue;
      // A cell exists in this column: print the lines above it, then size the column block.
      this.writeLines(line0, cur);
      line0 = cur;
      let width = this.opts.minwidth;
      let discardable = true;
      for (; cur < line1; cur++) {
        const line = this.lines[cur];
        if (column >= line.length - 1) break;
        const c = line[column];
        width = Math.max(width, c.width + this.opts.padding);
        if (c.width > 0 || c.htab) discardable = false;
      }
      if (discardable && this.opts.discardEmptyColumns) width = 0;
      this.widths.push(width);
      this.format(line0, cur);
      this.widths.pop();
      line0 = cur;
    }
    this.writeLines(line0, line1);
  }

  private writeLines(line0: number, line1: number): void {
    for (let i = line0; i < line1; i++) {
      const line = this.lines[i];
      line.forEach((c, j) => {
        const pad = j < this.widths.length ? this.opts.padchar.repeat(Math.max(this.widths[j] - c.width, 0)) : '';
        this.out += this.opts.alignRight ? pad + c.text : c.text + pad;
      });
      // The last buffered line is the unterminated one: it gets no newline.
      if (i + 1 < this.lines.length) this.out += '\n';
    }
  }
}

/** Aligns a whole text at once with podman's table settings (or the given ones). */
export function tabulate(text: string, opts: TabwriterOptions = PODMAN_TABWRITER): string {
  const tw = new Tabwriter(opts);
  tw.write(text);
  return tw.flush();
}
