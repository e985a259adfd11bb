// Retrying what a flaky network or a busy registry breaks: a few attempts with a short backoff.

import { log } from '../log';
import { RegistryError } from './registry-error';

/** Attempts in all (the first one included) before a transient failure is reported. */
export const RETRY_ATTEMPTS = 3;
const BASE_DELAY_MS = 200;
const MAX_DELAY_MS = 5_000;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The wait before attempt `n + 1` (n >= 1): 200 ms, 600 ms, ...; a Retry-After in seconds is honoured up to 5 s. */
export function backoffMs(n: number, retryAfter?: string): number {
  if (retryAfter && /^\d+$/.test(retryAfter.trim())) return Math.min(Number(retryAfter) * 1000, MAX_DELAY_MS);
  return Math.min(BASE_DELAY_MS * 3 ** (n - 1), MAX_DELAY_MS);
}

/** Runs `fn` until it succeeds, fails for good, or has failed transiently RETRY_ATTEMPTS times. */
export async function withRetries<T>(what: string, fn: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof RegistryError) || !err.transient || n >= RETRY_ATTEMPTS) throw err;
      const delay = backoffMs(n, err.retryAfter);
      log.debug(`${what}: ${err.message}; retrying in ${delay} ms`);
      await sleep(delay);
    }
  }
}
