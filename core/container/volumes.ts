// Named volumes: directories under ROOT/volumes/NAME/_data, created on first use.

import * as path from 'node:path';
import { mkdirp } from '../fsutil';
import type { Store } from '../store/store';

export function volumePath(store: Store, name: string, create: boolean): string {
  const dir = path.join(store.root, 'volumes', name, '_data');
  if (create) mkdirp(dir, 0o755);
  return dir;
}
