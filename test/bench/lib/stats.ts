// Summaries of repeated measurements: a benchmark reports medians (robust to one slow run on a
// shared 2-core machine) with the range beside them, never a mean.

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
}

export function summarize(values: number[]): Summary {
  if (values.length === 0) throw new Error('summarize: no values');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { n: s.length, median, min: s[0], max: s[s.length - 1] };
}

/** a / b of two medians; undefined when either side is missing or b is zero. */
export function ratio(a: Summary | undefined, b: Summary | undefined): number | undefined {
  if (!a || !b || b.median === 0) return undefined;
  return a.median / b.median;
}

/**
 * The order of the contenders in repetition `i`: rotated each time, so each one goes first equally
 * often and a slow drift of the machine (page cache, writeback, a neighbour's load) is shared.
 */
export function rotation<T>(items: readonly T[], i: number): T[] {
  const k = items.length ? i % items.length : 0;
  return [...items.slice(k), ...items.slice(0, k)];
}
