// `ps`: which containers, filtered and sorted as podman does, and the rows its formats print.

import { labelFilter } from '../labels';
import { TspodError } from '../errors';
import { psCommand, psStatus, timeAgo, Timestamp } from '../format';
import type { Store } from '../store/store';
import { formatPorts } from './options';
import { listContainers, type Container } from './record';

export interface PsOptions {
  all?: boolean;
  filters?: string[];
  last?: number;
  latest?: boolean;
  sort?: string;
}

function statusWord(c: Container): string {
  return c.state.status === 'stopping' ? 'running' : c.state.status;
}

function matchFilters(c: Container, filters: string[]): boolean {
  const byKey = new Map<string, string[]>();
  for (const f of filters) {
    const eq = f.indexOf('=');
    if (eq < 0) throw new TspodError(`invalid filter "${f}": need KEY=VALUE`);
    const k = f.slice(0, eq);
    byKey.set(k, [...(byKey.get(k) ?? []), f.slice(eq + 1)]);
  }
  // Values of one key are alternatives; different keys must all match.
  for (const [key, values] of byKey) {
    const ok = values.some((v) => {
      switch (key) {
        case 'name':
          return new RegExp(v).test(c.config.name);
        case 'id':
          return c.config.id.startsWith(v);
        case 'status':
          if (!['created', 'running', 'exited', 'paused', 'stopped', 'removing', 'restarting', 'configured', 'unknown'].includes(v)) {
            throw new TspodError(`${v} is not a valid status`);
          }
          return statusWord(c) === v || (v === 'exited' && c.state.status === 'stopped');
        case 'exited':
          return c.state.status === 'exited' && c.state.exitCode === Number(v);
        case 'ancestor':
          return c.config.imageName === v || c.config.image.startsWith(v) || c.config.imageName.split(':')[0].endsWith('/' + v.split(':')[0]);
        case 'label':
          return labelFilter(v)(c.config.labels);
        case 'volume':
          return c.config.mounts.some((m) => m.destination === v || m.source === v);
        case 'network':
          return c.config.network === v;
        default:
          throw new TspodError(`invalid filter "${key}"`);
      }
    });
    if (!ok) return false;
  }
  return true;
}

export function psContainers(store: Store, opts: PsOptions = {}, containers?: Container[]): Container[] {
  let list = containers ?? listContainers(store);
  const filters = opts.filters ?? [];
  if (!opts.all && !filters.some((f) => f.startsWith('status=') || f.startsWith('exited='))) {
    list = list.filter((c) => c.state.status === 'running' || c.state.status === 'stopping');
  }
  list = list.filter((c) => matchFilters(c, filters));
  list.sort((a, b) => b.config.created.localeCompare(a.config.created));
  if (opts.latest) list = list.slice(0, 1);
  if (opts.last !== undefined && opts.last >= 0) list = list.slice(0, opts.last);
  const sort = opts.sort ?? 'created';
  const keyed: Record<string, (c: Container) => string | number> = {
    created: (c) => -Date.parse(c.config.created),
    id: (c) => c.config.id,
    image: (c) => c.config.imageName,
    names: (c) => c.config.name,
    status: (c) => c.state.status,
    command: (c) => c.config.argv.join(' '),
    runningfor: (c) => -Date.parse(c.config.created),
  };
  const k = keyed[sort];
  if (!k) throw new TspodError(`invalid option for --sort, options are: command, created, id, image, names, runningfor, size, or status`);
  return list.map((c, i) => ({ c, i })).sort((a, b) => (k(a.c) < k(b.c) ? -1 : k(a.c) > k(b.c) ? 1 : a.i - b.i)).map((x) => x.c);
}

const unix = (iso?: string) => (iso ? Math.floor(Date.parse(iso) / 1000) : 0);

/** The fields of podman's ps template rows. */
export function psRows(list: Container[], opts: { noTrunc?: boolean } = {}) {
  const now = Date.now();
  return list.map((c) => {
    const s = c.state;
    const created = new Timestamp(c.config.created);
    return {
      ID: opts.noTrunc ? c.config.id : c.config.id.slice(0, 12),
      Id: c.config.id,
      Image: c.config.imageName,
      ImageID: c.config.image,
      Command: psCommand(c.config.argv, opts.noTrunc),
      CreatedHuman: timeAgo(created, now),
      Created: created,
      CreatedAt: created,
      RunningFor: timeAgo(created, now),
      Status: psStatus({ state: statusWord(c), startedAt: unix(s.startedAt), exitedAt: unix(s.finishedAt), exitCode: s.exitCode }, now),
      State: statusWord(c),
      Ports: formatPorts(c.config.ports),
      Names: c.config.name,
      Labels: c.config.labels,
      Mounts: c.config.mounts.map((m) => m.destination).join(','),
      Networks: '',
      Pid: s.status === 'running' ? s.pid ?? 0 : 0,
      Pod: '',
      PodName: '',
      Size: '',
      ExitCode: s.exitCode ?? 0,
      Exited: s.status === 'exited' || s.status === 'stopped',
      AutoRemove: c.config.autoRemove,
      IsInfra: false,
      Restarts: s.restartCount ?? 0,
    };
  });
}

/** `ps --format json`: podman's entries. */
export function psJson(list: Container[]) {
  return list.map((c) => {
    const s = c.state;
    const created = Date.parse(c.config.created);
    return {
      AutoRemove: c.config.autoRemove,
      Command: c.config.argv,
      CreatedAt: timeAgo(created),
      Exited: s.status === 'exited' || s.status === 'stopped',
      ExitedAt: s.finishedAt ? unix(s.finishedAt) : -62135596800,
      ExitCode: s.exitCode ?? 0,
      Id: c.config.id,
      Image: c.config.imageName,
      ImageID: c.config.image,
      IsInfra: false,
      Labels: Object.keys(c.config.labels).length ? c.config.labels : null,
      Mounts: c.config.mounts.map((m) => m.destination),
      Names: [c.config.name],
      Namespaces: {},
      Networks: [],
      Pid: s.status === 'running' ? s.pid ?? 0 : 0,
      Pod: '',
      PodName: '',
      Ports: c.config.ports.length
        ? c.config.ports.map((p) => ({ host_ip: p.hostIp, container_port: p.containerPort, host_port: p.hostPort, range: p.range, protocol: p.protocol }))
        : null,
      Size: null,
      // podman: Go's zero time for a container that never started, as ExitedAt above
      StartedAt: s.startedAt ? unix(s.startedAt) : -62135596800,
      State: statusWord(c),
      Status: psStatus({ state: statusWord(c), startedAt: unix(s.startedAt), exitedAt: unix(s.finishedAt), exitCode: s.exitCode }),
      Created: Math.floor(created / 1000),
    };
  });
}
