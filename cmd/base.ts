// The base of every tspod command: flags -> options -> one core call -> render.
// Engine modules are loaded inside execute() (lazily) so that start-up stays small.

import { Command } from 'clipanion';
import type { TspodContext } from './context';
import type { Store } from '../core/store/store';

export abstract class TspodCommand extends Command<TspodContext> {
  /** Arguments after the verb for help: `[options] IMAGE [IMAGE...]`. */
  static synopsis = '[options]';

  /** Opens the store named by --root (or the default one). */
  async store(): Promise<Store> {
    const { Store } = await import('../core/store/store');
    const { defaultStoreRoot } = await import('../core/paths');
    return Store.open(this.context.globals.root ?? defaultStoreRoot(this.context.env));
  }

  out(text: string): void {
    this.context.stdout.write(text);
  }

  err(text: string): void {
    this.context.stderr.write(text);
  }
}
