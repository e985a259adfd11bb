// The error of a registry operation: a TspodError (exit 125, one line) that also says what kind
// of failure it was, for the callers that act on it (retry, login's "invalid username/password").

import { TspodError } from '../errors';

/** What went wrong, for callers that act on it (login's "invalid username/password"). */
export type RegistryErrorKind = 'unauthorized' | 'denied' | 'not-found' | 'network' | 'status' | 'protocol';

export class RegistryError extends TspodError {
  readonly kind: RegistryErrorKind;
  readonly status?: number;
  /** True when another attempt may succeed (connection broke, 429, 5xx). */
  readonly transient: boolean;
  /** The Retry-After header of a 429 or 503, if any. */
  readonly retryAfter?: string;

  constructor(message: string, o: { kind: RegistryErrorKind; status?: number; transient?: boolean; retryAfter?: string; cause?: unknown }) {
    super(message, { cause: o.cause });
    this.name = 'RegistryError';
    this.kind = o.kind;
    this.status = o.status;
    this.transient = o.transient ?? false;
    this.retryAfter = o.retryAfter;
  }
}
