// A registry's error response turned into one line, worded as containers/image words it (so that
// messages match podman's): the distribution spec's error body
//   {"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":...}]}
// reads `manifest unknown: manifest unknown` (the code in lower case, then the message); a bearer
// challenge with error="insufficient_scope" reads `denied: requested access to the resource is denied`.

import * as http from 'node:http';
import { parseChallenges } from './challenge';

/** The distribution spec's default message of each error code. */
const DEFAULT_MESSAGES: Record<string, string> = {
  BLOB_UNKNOWN: 'blob unknown to registry',
  BLOB_UPLOAD_INVALID: 'blob upload invalid',
  BLOB_UPLOAD_UNKNOWN: 'blob upload unknown to registry',
  DIGEST_INVALID: 'provided digest did not match uploaded content',
  MANIFEST_BLOB_UNKNOWN: 'blob unknown to registry',
  MANIFEST_INVALID: 'manifest invalid',
  MANIFEST_UNKNOWN: 'manifest unknown',
  MANIFEST_UNVERIFIED: 'manifest failed signature verification',
  NAME_INVALID: 'invalid repository name',
  NAME_UNKNOWN: 'repository name not known to registry',
  SIZE_INVALID: 'provided length did not match content length',
  TAG_INVALID: 'manifest tag did not match URI',
  UNAUTHORIZED: 'authentication required',
  DENIED: 'requested access to the resource is denied',
  UNSUPPORTED: 'The operation is unsupported.',
  TOOMANYREQUESTS: 'too many requests',
  UNKNOWN: 'unknown error',
};

function codeText(code: string): string {
  return code.toLowerCase().replace(/_/g, ' ');
}

/** Printable, one line, at most `max` characters (a body may be anything). */
function excerpt(body: string, max: number): string {
  const flat = body.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max) + '...' : flat;
}

/**
 * The message for an error response of `status` with `body`, given its WWW-Authenticate header.
 * Pure, for tests; errorFromResponse() reads the body.
 */
export function registryErrorText(status: number, body: string, wwwAuthenticate?: string | string[]): string {
  if (status >= 400 && status < 500) {
    for (const c of parseChallenges(wwwAuthenticate)) {
      if (c.scheme !== 'bearer') continue;
      const err = c.params.error;
      const code = err === 'invalid_token' ? 'UNAUTHORIZED' : err === 'insufficient_scope' ? 'DENIED' : undefined;
      if (code) return `${codeText(code)}: ${c.params.error_description || DEFAULT_MESSAGES[code]}`;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
    if (parsed && typeof parsed === 'object') {
      const p = parsed as { details?: unknown; errors?: unknown };
      if (typeof p.details === 'string' && p.details !== '') {
        const code = status === 401 ? 'UNAUTHORIZED' : status === 429 ? 'TOOMANYREQUESTS' : 'UNKNOWN';
        return `${codeText(code)}: ${excerpt(p.details, 200)}`;
      }
      if (Array.isArray(p.errors) && p.errors.length > 0) {
        const e = p.errors[0] as { code?: unknown; message?: unknown };
        const code = typeof e?.code === 'string' && e.code !== '' ? e.code.toUpperCase() : 'UNKNOWN';
        const message = typeof e?.message === 'string' && e.message !== '' ? e.message : (DEFAULT_MESSAGES[code] ?? DEFAULT_MESSAGES.UNKNOWN);
        return `${codeText(code)}: ${excerpt(message, 200)}`;
      }
    }
    if (status === 401) return `${codeText('UNAUTHORIZED')}: ${DEFAULT_MESSAGES.UNAUTHORIZED}`;
    return `StatusCode: ${status}, ${excerpt(body, 50) || (http.STATUS_CODES[status] ?? '')}`;
  }
  return `received unexpected HTTP status: ${status} ${http.STATUS_CODES[status] ?? ''}`.trimEnd();
}

const ERROR_BODY_LIMIT = 64 * 1024;

/** Reads (at most 64 KiB of) an error response's body and words it. */
export async function errorTextFromResponse(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of res) {
      const b = chunk as Buffer;
      if (n < ERROR_BODY_LIMIT) chunks.push(b.subarray(0, ERROR_BODY_LIMIT - n));
      n += b.length;
      if (n >= ERROR_BODY_LIMIT) {
        res.destroy();
        break;
      }
    }
  } catch {
    // A broken error body still has a status to report.
  }
  return registryErrorText(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), res.headers['www-authenticate']);
}

/** `invalid status code from registry 404 (Not Found)` */
export function invalidStatusText(status: number): string {
  return `invalid status code from registry ${status} (${http.STATUS_CODES[status] ?? 'unknown'})`;
}
