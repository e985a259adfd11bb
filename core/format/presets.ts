// podman 4.3's default table rows and column titles for `images` and `ps`
// (cmd/podman/images/list.go, cmd/podman/containers/ps.go), so the commands print the same
// columns in the same order with the same titles.

/** Column titles of `images` that differ from the field name spelled in capitals. */
export const IMAGES_HEADERS: Record<string, string> = {
  ID: 'IMAGE ID',
  ReadOnly: 'R/O',
};

export interface ImagesTableOptions {
  digests?: boolean;
  history?: boolean;
  readOnly?: boolean;
}

/** The default `images` row; rows have Repository, Tag, Digest, ID, Created, Size, History. */
export function imagesTableFormat(opts: ImagesTableOptions = {}): string {
  const row = ['{{if .Repository}}{{.Repository}}{{else}}<none>{{end}}', '{{if .Tag}}{{.Tag}}{{else}}<none>{{end}}'];
  if (opts.digests) row.push('{{.Digest}}');
  row.push('{{.ID}}', '{{.Created}}', '{{.Size}}');
  if (opts.history) row.push('{{if .History}}{{.History}}{{else}}<none>{{end}}');
  if (opts.readOnly) row.push('{{.ReadOnly}}');
  return row.join('\t');
}

/** Column titles of `ps` that differ from the field name split at capitals. */
export const PS_HEADERS: Record<string, string> = {
  Cgroup: 'cgroupns',
  CreatedHuman: 'created',
  ID: 'container id',
  IPC: 'ipc',
  MNT: 'mnt',
  NET: 'net',
  Networks: 'networks',
  PIDNS: 'pidns',
  Pod: 'pod id',
  PodName: 'podname',
  Restarts: 'restarts',
  RunningFor: 'running for',
  UTS: 'uts',
  User: 'userns',
};

export interface PsTableOptions {
  namespace?: boolean;
  pod?: boolean;
  size?: boolean;
}

/** The default `ps` row; CreatedHuman is `1 second ago`, Status `Up 2 seconds ago`. */
export function psTableFormat(opts: PsTableOptions = {}): string {
  if (opts.namespace) {
    return '{{.ID}}\t{{.Names}}\t{{.Pid}}\t{{.Cgroup}}\t{{.IPC}}\t{{.MNT}}\t{{.NET}}\t{{.PIDNS}}\t{{.User}}\t{{.UTS}}';
  }
  let row = '{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.CreatedHuman}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
  if (opts.pod) row += '\t{{.Pod}}\t{{.PodName}}';
  if (opts.size) row += '\t{{.Size}}';
  return row;
}

/** The COMMAND column of `ps`: the argv joined, cut to 17 bytes and `...` unless noTrunc. */
export function psCommand(argv: readonly string[], noTrunc = false): string {
  const command = argv.join(' ');
  if (noTrunc) return command;
  const bytes = Buffer.from(command, 'utf8');
  return bytes.length > 17 ? bytes.subarray(0, 17).toString('utf8') + '...' : command;
}
