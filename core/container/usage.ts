// What the image commands need to know about containers: which ones use an image.

import type { ContainerUsage } from '../image/remove';
import type { Store } from '../store/store';
import { listContainers } from './record';

export function containerUsage(store: Store): ContainerUsage {
  let cached: ReturnType<typeof listContainers> | undefined;
  const all = () => (cached ??= listContainers(store));
  return {
    usersOf: (imageId) => all().filter((c) => c.config.image === imageId).map((c) => c.config.id),
    remove: async (ids) => {
      const { removeContainer } = await import('./remove');
      for (const c of all().filter((x) => ids.includes(x.config.id))) await removeContainer(store, c, { force: true, volumes: true });
      cached = undefined;
    },
  };
}
