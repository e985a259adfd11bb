// `inspect` of a container: docker-compatible JSON in podman's field order.

import * as path from 'node:path';
import { Timestamp, GO_ZERO_TIME } from '../format';
import type { Store } from '../store/store';
import { signalNumber } from './create';
import { containerMapping } from './spec';
import type { Container } from './record';
import { homeDirectory, readContainerFile } from './etc-files';
import { volumeOfSource } from './volumes';

function portMap(c: Container): Record<string, Array<{ HostIp: string; HostPort: string }>> {
  const out: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of c.config.ports) {
    for (let i = 0; i < p.range; i++) {
      const key = `${p.containerPort + i}/${p.protocol}`;
      (out[key] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort + i) });
    }
  }
  return out;
}

/** The OCI runtime-tools default bounding set (sorted), against which podman reports CapAdd and CapDrop. */
const OCI_DEFAULT_CAPS = ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'NET_RAW', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'];

const ZERO = new Timestamp(GO_ZERO_TIME);
const time = (iso?: string) => (iso ? new Timestamp(iso) : ZERO);

/**
 * The environment the container's process gets: its configuration plus HOME, which the helper
 * adds from the container's /etc/passwd when neither the image nor -e set it (as podman shows).
 */
function processEnv(store: Store, c: Container, layers: string[]): string[] {
  const env = c.config.env;
  if (env.some((e) => e.startsWith('HOME='))) return env;
  const keepId = c.config.userns.startsWith('keep-id') && !c.config.user;
  const user = keepId ? String(process.getuid?.() ?? 0) : c.config.user;
  const home = `HOME=${homeDirectory(user, readContainerFile(store, c, 'etc/passwd', layers))}`;
  const at = env.findIndex((e) => e.startsWith('HOSTNAME='));
  return at < 0 ? [...env, home] : [...env.slice(0, at), home, ...env.slice(at)];
}

export function inspectContainer(store: Store, c: Container) {
  const { config: cfg, state: st, dir } = c;
  const ud = path.join(dir, 'userdata');
  const image = store.images().find((i) => i.id === cfg.image);
  const layers = image?.layers ?? [];
  const running = st.status === 'running' || st.status === 'stopping';
  const caps = cfg.caps.map((x) => `CAP_${x}`);
  const mapping = containerMapping(cfg);
  const status = st.status === 'stopping' ? 'running' : st.status;
  return {
    Id: cfg.id,
    Created: new Timestamp(cfg.created),
    Path: cfg.argv[0] ?? '',
    Args: cfg.argv.slice(1),
    State: {
      OciVersion: '1.0.2',
      Status: status,
      Running: running,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: running ? st.pid ?? 0 : 0,
      ConmonPid: running ? st.monitorPid ?? 0 : 0,
      ExitCode: st.exitCode ?? 0,
      Error: st.error ?? '',
      StartedAt: time(st.startedAt),
      FinishedAt: running ? ZERO : time(st.finishedAt),
      Health: { Status: '', FailingStreak: 0, Log: null },
      CheckpointedAt: ZERO,
      RestoredAt: ZERO,
    },
    Image: cfg.image,
    ImageDigest: image?.manifestDigest ?? '',
    ImageName: cfg.imageName,
    Rootfs: '',
    Pod: '',
    ResolvConfPath: path.join(ud, 'resolv.conf'),
    HostnamePath: path.join(ud, 'hostname'),
    HostsPath: path.join(ud, 'hosts'),
    StaticDir: ud,
    OCIRuntime: 'tspod-helper',
    ConmonPidFile: path.join(ud, 'pid'),
    PidFile: path.join(ud, 'pid'),
    Name: cfg.name,
    RestartCount: st.restartCount ?? 0,
    Driver: 'overlay',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    EffectiveCaps: caps,
    BoundingCaps: caps,
    ExecIDs: [],
    GraphDriver: {
      Name: 'overlay',
      Data: {
        LowerDir: [...layers].reverse().map((l) => store.layerDiffPath(l)).join(':'),
        MergedDir: path.join(dir, 'merged'),
        UpperDir: path.join(dir, 'upper'),
        WorkDir: path.join(dir, 'work'),
      },
    },
    Mounts: cfg.mounts.map((m) => {
      // A volume of the store (ROOT/volumes/NAME/_data) is podman's type volume, with its name.
      const volume = volumeOfSource(store, m.source);
      return {
        Type: volume !== undefined ? 'volume' : m.type,
        ...(volume !== undefined ? { Name: volume } : {}),
        Source: m.source,
        Destination: m.destination,
        Driver: volume !== undefined ? 'local' : '',
        Mode: '',
        Options: m.options.filter((o) => o !== 'ro' && o !== 'rw'),
        RW: !m.options.includes('ro'),
        Propagation: m.type === 'bind' ? 'rprivate' : '',
      };
    }),
    Dependencies: [],
    NetworkSettings: {
      EndpointID: '',
      Gateway: '',
      IPAddress: '',
      IPPrefixLen: 0,
      IPv6Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      MacAddress: '',
      Bridge: '',
      SandboxID: '',
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      Ports: portMap(c),
      SandboxKey: running && st.pid ? `/proc/${st.pid}/ns/net` : '',
    },
    Namespace: '',
    IsInfra: false,
    IsService: false,
    Config: {
      Hostname: cfg.hostname,
      Domainname: '',
      User: cfg.user,
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      Tty: cfg.tty,
      OpenStdin: cfg.stdin,
      StdinOnce: false,
      Env: processEnv(store, c, layers),
      Cmd: cfg.cmd.length ? cfg.cmd : null,
      Image: cfg.imageName,
      Volumes: null,
      WorkingDir: cfg.workdir,
      Entrypoint: cfg.entrypoint.join(' '),
      OnBuild: null,
      Labels: Object.keys(cfg.labels).length ? cfg.labels : null,
      Annotations: {
        'io.container.manager': 'tspod',
        'io.podman.annotations.autoremove': cfg.autoRemove ? 'TRUE' : 'FALSE',
        'io.podman.annotations.init': cfg.init ? 'TRUE' : 'FALSE',
        'org.opencontainers.image.stopSignal': String(signalNumber(cfg.stopSignal)),
      },
      StopSignal: signalNumber(cfg.stopSignal),
      CreateCommand: cfg.createCommand.length ? ['tspod', ...cfg.createCommand] : null,
      Umask: '0022',
      Timeout: 0,
      StopTimeout: cfg.stopTimeout,
    },
    HostConfig: {
      Binds: cfg.mounts
        .filter((m) => m.type === 'bind')
        .map((m) => `${m.source}:${m.destination}:${m.options.includes('ro') ? 'ro' : 'rw'},rprivate,${m.options.includes('bind') ? 'bind' : 'rbind'}`),
      CgroupManager: 'cgroupfs',
      CgroupMode: 'host',
      ContainerIDFile: '',
      LogConfig: { Type: 'k8s-file', Config: null, Path: path.join(ud, 'ctr.log'), Tag: '', Size: '0B' },
      NetworkMode: cfg.network,
      PortBindings: portMap(c),
      RestartPolicy: { Name: cfg.restartPolicy.split(':')[0], MaximumRetryCount: Number(cfg.restartPolicy.split(':')[1] ?? 0) },
      AutoRemove: cfg.autoRemove,
      VolumeDriver: '',
      VolumesFrom: null,
      // podman compares with the OCI runtime's default bounding set, not with its own defaults
      CapAdd: cfg.caps.filter((x) => !OCI_DEFAULT_CAPS.includes(x)).map((x) => `CAP_${x}`),
      CapDrop: OCI_DEFAULT_CAPS.filter((x) => !cfg.caps.includes(x)).map((x) => `CAP_${x}`),
      Dns: [],
      DnsOptions: [],
      DnsSearch: [],
      ExtraHosts: [],
      GroupAdd: [],
      IpcMode: 'private',
      Cgroup: '',
      Cgroups: 'disabled',
      Links: null,
      OomScoreAdj: 0,
      PidMode: 'private',
      Privileged: false,
      PublishAllPorts: false,
      ReadonlyRootfs: cfg.readOnly,
      SecurityOpt: [],
      Tmpfs: Object.fromEntries(cfg.mounts.filter((m) => m.type === 'tmpfs').map((m) => [m.destination, m.options.join(',')])),
      UTSMode: 'private',
      UsernsMode: cfg.userns,
      IDMappings: {
        UidMap: mapping.uids.map((r) => `${r.container}:${r.host}:${r.size}`),
        GidMap: mapping.gids.map((r) => `${r.container}:${r.host}:${r.size}`),
      },
      ShmSize: 65536000,
      Runtime: 'oci',
      ConsoleSize: [0, 0],
      Init: cfg.init,
    },
  };
}
