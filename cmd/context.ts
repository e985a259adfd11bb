// What every command gets besides its own flags: the global options given before the verb.

import type { BaseContext } from 'clipanion';

export interface GlobalOptions {
  /** --root: the store directory. */
  root?: string;
  /** --runroot: the runtime state directory. */
  runroot?: string;
  logLevel: string;
  /** The whole command line after the program name, as given. */
  argv: string[];
}

export interface TspodContext extends BaseContext {
  globals: GlobalOptions;
}
