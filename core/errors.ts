// One error type for the engine. Every fallible engine function throws a TspodError (or lets a
// Node system error through); only the top level (cmd/main.ts) prints, as one line `Error: ...`.
//
// Exit codes follow docker and podman: 125 the engine failed, 126 the command cannot be
// executed, 127 the command was not found, otherwise the container's own code.

export const EXIT_ENGINE = 125;
export const EXIT_CANNOT_EXEC = 126;
export const EXIT_NOT_FOUND = 127;

export class TspodError extends Error {
  readonly exitCode: number;

  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TspodError';
    this.exitCode = options.exitCode ?? EXIT_ENGINE;
  }
}

/** Adds context in front of an error's message, keeping its exit code: `pulling x: <cause>`. */
export function wrap(context: string, err: unknown): TspodError {
  const exitCode = err instanceof TspodError ? err.exitCode : EXIT_ENGINE;
  return new TspodError(`${context}: ${describe(err)}`, { exitCode, cause: err });
}

const SYSCALL_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'file exists',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'temporary failure in name resolution',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  EMFILE: 'too many open files',
  ENOTEMPTY: 'directory not empty',
  EXDEV: 'invalid cross-device link',
  ELOOP: 'too many levels of symbolic links',
};

/** The message of any thrown value as one line, Node system errors in the `op path: text` form. */
export function describe(err: unknown): string {
  if (err instanceof TspodError) return err.message;
  if (err && typeof err === 'object') {
    const e = err as NodeJS.ErrnoException & { hostname?: string; address?: string; port?: number };
    if (typeof e.code === 'string' && SYSCALL_TEXT[e.code]) {
      const text = SYSCALL_TEXT[e.code];
      if (e.syscall === 'getaddrinfo') return `lookup ${e.hostname ?? ''}: ${text}`.replace(/ +:/, ':');
      if (e.address) return `${e.syscall ?? 'connect'} ${e.address}${e.port ? ':' + e.port : ''}: ${text}`;
      if (e.path) return `${e.syscall ?? 'open'} ${e.path}: ${text}`;
      return text;
    }
    if (e instanceof Error) return firstLine(e.message);
  }
  return firstLine(String(err));
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}

export function errnoCode(err: unknown): string | undefined {
  return err && typeof err === 'object' ? ((err as NodeJS.ErrnoException).code ?? undefined) : undefined;
}
