// `generate kube`: Kubernetes YAML (a v1 Pod, and a NodePort Service with --service) describing
// containers, in podman's shape: image, command and args, the environment that differs from
// the image's, working directory, published ports, bind mounts as hostPath volumes (named volumes
// as persistentVolumeClaims), and a securityContext with the user, the capabilities added or
// dropped relative to the runtime default set, and a read-only root file system.
//
// kubeInput() gathers what the YAML needs from the store and the host (effects); buildPod(),
// buildService() and renderKube() are pure.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { TspodError } from '../errors';
import { readImageConfig, type ImageRuntimeConfig } from '../image/config';
import type { Store } from '../store/store';
import type { Container } from '../container/record';
import { parseIdFile, readContainerFile } from '../container/etc-files';
import { DEFAULT_PATH } from '../container/command';
import { toYaml, type YamlValue } from './yaml';

/**
 * The capabilities a Kubernetes container runtime grants by default (the OCI runtime-tools
 * default that CRI-O and containerd start from). add/drop are relative to this set: tspod's own
 * default lacks MKNOD, NET_RAW and AUDIT_WRITE, so a container with tspod's defaults drops them.
 */
export const KUBE_DEFAULT_CAPS = [
  'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP',
  'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
];

export type HostPathType = 'Directory' | 'File' | 'DirectoryOrCreate';

export interface KubeMount {
  kind: 'hostPath' | 'volume' | 'tmpfs';
  /** Host path (hostPath), volume name (volume). */
  source: string;
  destination: string;
  readOnly: boolean;
  /** What is at the host path now (hostPath only). */
  hostPathType?: HostPathType;
}

/** One container, as the generator needs it. */
export interface KubeContainerInput {
  name: string;
  id: string;
  image: string;
  entrypoint: string[];
  cmd: string[];
  env: string[];
  /** The environment tspod adds by itself (HOSTNAME, container=tspod, TERM), left out of the YAML. */
  defaultEnv: string[];
  workdir: string;
  hostname: string;
  tty: boolean;
  stdin: boolean;
  autoRemove: boolean;
  init: boolean;
  readOnly: boolean;
  caps: string[];
  hostNetwork: boolean;
  restartPolicy: string;
  ports: Array<{ hostIp: string; hostPort: number; containerPort: number; protocol: 'tcp' | 'udp'; range: number }>;
  mounts: KubeMount[];
  /** The image's defaults the container may have kept. */
  imageConfig: ImageRuntimeConfig;
  /** runAsUser/runAsGroup when the container runs as a user other than the image's. */
  runAs?: { uid: number; gid: number };
}

type YamlMap = { [key: string]: YamlValue | undefined };

/** A DNS-1123 label from a container or path name: what Kubernetes accepts as a name. */
export function kubeName(s: string): string {
  const n = s
    .toLowerCase()
    .replace(/_/g, '')
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return n || 'container';
}

/** podman's volume names: the host path with slashes as dashes (`/mnt/data/` -> `mnt-data`), `/` -> `root`. */
export function hostPathVolumeName(p: string): string {
  const trimmed = p.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? 'root' : kubeName(trimmed.replace(/\//g, '-'));
}

function sameArray(a: string[] | null | undefined, b: string[]): boolean {
  return !!a && a.length === b.length && a.every((x, i) => x === b[i]);
}

function securityContext(c: KubeContainerInput): YamlMap | undefined {
  const have = new Set(c.caps);
  const drop = KUBE_DEFAULT_CAPS.filter((x) => !have.has(x)).map((x) => `CAP_${x}`);
  const add = c.caps.filter((x) => !KUBE_DEFAULT_CAPS.includes(x)).map((x) => `CAP_${x}`);
  const sc: YamlMap = {};
  if (add.length || drop.length) sc.capabilities = { add: add.length ? add : undefined, drop: drop.length ? drop : undefined };
  if (c.readOnly) sc.readOnlyRootFilesystem = true;
  if (c.runAs) {
    sc.runAsUser = c.runAs.uid;
    sc.runAsGroup = c.runAs.gid;
  }
  return Object.keys(sc).length ? sc : undefined;
}

function containerPorts(c: KubeContainerInput): YamlMap[] {
  const out: YamlMap[] = [];
  for (const p of c.ports) {
    for (let i = 0; i < p.range; i++) {
      out.push({
        containerPort: p.containerPort + i,
        hostIP: p.hostIp && p.hostIp !== '0.0.0.0' ? p.hostIp : undefined,
        hostPort: p.hostPort + i,
        // TCP is Kubernetes' default and is left out, as podman does.
        protocol: p.protocol === 'udp' ? 'UDP' : undefined,
      });
    }
  }
  return out;
}

function kubeEnv(c: KubeContainerInput): YamlMap[] {
  const skip = new Set([...c.defaultEnv, ...(c.imageConfig.Env ?? [])]);
  return c.env
    .filter((e) => !skip.has(e))
    .map((e) => {
      const i = e.indexOf('=');
      return { name: i < 0 ? e : e.slice(0, i), value: i < 0 ? '' : e.slice(i + 1) };
    });
}

interface PodVolume {
  name: string;
  spec: YamlMap;
}

function volumesOf(c: KubeContainerInput): { mounts: YamlMap[]; volumes: PodVolume[] } {
  const mounts: YamlMap[] = [];
  const volumes: PodVolume[] = [];
  c.mounts.forEach((m, index) => {
    let name: string;
    let spec: YamlMap;
    if (m.kind === 'volume') {
      name = `${kubeName(m.source)}-pvc`;
      spec = { persistentVolumeClaim: { claimName: m.source, readOnly: m.readOnly || undefined } };
    } else if (m.kind === 'tmpfs') {
      name = `${hostPathVolumeName(m.destination)}-tmpfs-${index}`;
      spec = { emptyDir: { medium: 'Memory' } };
    } else {
      name = `${hostPathVolumeName(m.source)}-host-${index}`;
      spec = { hostPath: { path: m.source, type: m.hostPathType ?? 'DirectoryOrCreate' } };
    }
    mounts.push({ mountPath: m.destination, name, readOnly: m.readOnly || undefined });
    volumes.push({ name, spec });
  });
  return { mounts, volumes };
}

function kubeContainer(c: KubeContainerInput): { container: YamlMap; volumes: PodVolume[] } {
  let command: string[] | undefined;
  let args: string[] | undefined;
  if (c.entrypoint.length) {
    command = c.entrypoint;
    args = c.cmd.length ? c.cmd : undefined;
  } else command = c.cmd.length ? c.cmd : undefined;
  // What the image would run anyway is left to the image, as podman does.
  if (command && (sameArray(c.imageConfig.Cmd, command) || sameArray(c.imageConfig.Entrypoint, command))) command = undefined;
  const ports = containerPorts(c);
  const env = kubeEnv(c);
  const { mounts, volumes } = volumesOf(c);
  const workingDir = c.workdir && c.workdir !== '/' && c.workdir !== c.imageConfig.WorkingDir ? c.workdir : undefined;
  return {
    container: {
      args,
      command,
      env: env.length ? env : undefined,
      image: c.image,
      name: kubeName(c.name),
      ports: ports.length ? ports : undefined,
      securityContext: securityContext(c),
      stdin: c.stdin || undefined,
      tty: c.tty || undefined,
      volumeMounts: mounts.length ? mounts : undefined,
      workingDir,
    },
    volumes,
  };
}

function restartPolicy(policy: string): string | undefined {
  if (policy === 'always' || policy === 'unless-stopped') return 'Always';
  if (policy.startsWith('on-failure')) return 'OnFailure';
  if (policy === 'no') return 'Never';
  return undefined;
}

export interface PodOptions {
  now: Date;
}

/** The Pod for one or more containers; it is named after the first (`web` -> `web-pod`). */
export function buildPod(containers: KubeContainerInput[], opts: PodOptions): YamlMap {
  if (containers.length === 0) throw new TspodError('generate kube: no containers given');
  // The pod is named after its first container, with a suffix so that the two names differ.
  const podName = kubeName(`${kubeName(containers[0].name)}-pod`);
  const annotations: Record<string, string> = {};
  const kubeContainers: YamlMap[] = [];
  const volumes = new Map<string, PodVolume>();
  for (const c of containers) {
    const n = kubeName(c.name);
    annotations[`io.kubernetes.cri-o.TTY/${n}`] = String(c.tty);
    annotations[`io.podman.annotations.autoremove/${n}`] = c.autoRemove ? 'TRUE' : 'FALSE';
    annotations[`io.podman.annotations.init/${n}`] = c.init ? 'TRUE' : 'FALSE';
    annotations[`io.podman.annotations.privileged/${n}`] = 'FALSE';
    annotations[`io.podman.annotations.publish-all/${n}`] = 'FALSE';
    const k = kubeContainer(c);
    kubeContainers.push(k.container);
    for (const v of k.volumes) {
      const seen = volumes.get(v.name);
      // Two containers binding the same source share one volume; a clash of names for different
      // sources (`/a-b` and `/a/b`) gets a suffix on both the volume and its mount.
      if (seen && JSON.stringify(seen.spec) !== JSON.stringify(v.spec)) {
        let i = 1;
        while (volumes.has(`${v.name}-${i}`)) i++;
        const renamed = `${v.name}-${i}`;
        for (const m of (k.container.volumeMounts as YamlMap[]) ?? []) if (m.name === v.name) m.name = renamed;
        volumes.set(renamed, { name: renamed, spec: v.spec });
      } else volumes.set(v.name, v);
    }
  }
  const first = containers[0];
  // A hostname the user chose (not the short ID tspod gives by default) is the pod's.
  const hostname = first.hostname && !first.id.startsWith(first.hostname) ? first.hostname : undefined;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      annotations,
      creationTimestamp: opts.now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      labels: { app: podName },
      name: podName,
    },
    spec: {
      automountServiceAccountToken: false,
      containers: kubeContainers,
      enableServiceLinks: false,
      hostNetwork: containers.every((c) => c.hostNetwork) || undefined,
      hostname,
      restartPolicy: restartPolicy(first.restartPolicy),
      volumes: volumes.size ? [...volumes.values()].map((v) => ({ name: v.name, ...v.spec })) : undefined,
    },
  };
}

/**
 * A NodePort Service selecting the pod, one port per container port, as podman writes it. Node
 * ports are drawn at random from Kubernetes' range 30000-32767 (`random` returns [0, 1)).
 */
export function buildService(pod: YamlMap, random: () => number = Math.random): YamlMap {
  const meta = pod.metadata as YamlMap;
  const containers = (pod.spec as YamlMap).containers as YamlMap[];
  const used = new Set<number>();
  const ports: YamlMap[] = [];
  for (const c of containers) {
    for (const p of (c.ports as YamlMap[] | undefined) ?? []) {
      let nodePort: number;
      do nodePort = 30000 + Math.floor(random() * (32767 - 30000 + 1));
      while (used.has(nodePort) && used.size < 2768);
      used.add(nodePort);
      ports.push({ name: String(p.containerPort), nodePort, port: p.containerPort, protocol: p.protocol, targetPort: p.containerPort });
    }
  }
  if (ports.length === 0) {
    throw new TspodError(`generate kube --service: ${String(meta.name)} publishes no ports: a Service needs at least one (run the container with -p)`);
  }
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { creationTimestamp: meta.creationTimestamp, labels: meta.labels, name: meta.name },
    spec: { ports, selector: { app: (meta.labels as YamlMap).app }, type: 'NodePort' },
  };
}

/** The YAML stream: podman's header comments, then each document after `---`. */
export function renderKube(docs: YamlMap[], opts: { version: string; hostPaths: boolean }): string {
  let out =
    '# Save the output of this file and use kubectl create -f to import\n' +
    '# it into Kubernetes.\n' +
    '#\n' +
    `# Created with tspod-${opts.version}\n`;
  if (opts.hostPaths) {
    out +=
      '\n# NOTE: If you generated this yaml from an unprivileged and rootless tspod container on an SELinux\n' +
      '# enabled system, check the tspod generate kube documentation for steps to follow to ensure that your pod/container\n' +
      '# has the right permissions to access the volumes added.\n';
  }
  for (const d of docs) out += `---\n${toYaml(d)}`;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Gathering the input (effects: the store's files and the host's paths)

/** uid and gid of `-u USER[:GROUP]` as the container's /etc/passwd and /etc/group define them. */
export function resolveUser(user: string, passwd: string | undefined, group: string | undefined): { uid: number; gid: number } {
  const [u, g] = user.split(':', 2);
  const users = parseIdFile(passwd ?? '', true);
  const groups = parseIdFile(group ?? '', false);
  let uid: number;
  let gid: number | undefined;
  if (/^\d+$/.test(u)) {
    uid = Number(u);
    gid = users.find((e) => e.id === uid)?.gid;
  } else {
    const e = users.find((x) => x.name === u);
    if (!e) throw new TspodError(`generate kube: user "${u}" is not in the container's /etc/passwd`);
    uid = e.id;
    gid = e.gid;
  }
  if (g !== undefined && g !== '') {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const e = groups.find((x) => x.name === g);
      if (!e) throw new TspodError(`generate kube: group "${g}" is not in the container's /etc/group`);
      gid = e.id;
    }
  }
  return { uid, gid: gid ?? 0 };
}

function hostPathType(p: string): HostPathType {
  try {
    return fs.statSync(p).isDirectory() ? 'Directory' : 'File';
  } catch {
    return 'DirectoryOrCreate';
  }
}

/** What buildPod needs to know of a container of the store. */
export function kubeInput(store: Store, c: Container): KubeContainerInput {
  const cfg = c.config;
  const image = store.images().find((i) => i.id === cfg.image);
  const imageConfig = image ? (readImageConfig(store, image).config ?? {}) : {};
  let runAs: { uid: number; gid: number } | undefined;
  if (cfg.user && cfg.user !== (imageConfig.User ?? '')) {
    const layers = image?.layers ?? [];
    runAs = resolveUser(cfg.user, readContainerFile(store, c, 'etc/passwd', layers), readContainerFile(store, c, 'etc/group', layers));
  }
  const volumesDir = path.join(store.root, 'volumes') + path.sep;
  const mounts: KubeMount[] = cfg.mounts.map((m) => {
    const readOnly = m.options.includes('ro');
    if (m.type === 'tmpfs') return { kind: 'tmpfs', source: '', destination: m.destination, readOnly };
    // A named volume is a directory of the store: ROOT/volumes/NAME/_data.
    const named = m.source.startsWith(volumesDir) ? /^([^/]+)\/_data$/.exec(m.source.slice(volumesDir.length)) : null;
    if (named) return { kind: 'volume', source: named[1], destination: m.destination, readOnly };
    return { kind: 'hostPath', source: m.source, destination: m.destination, readOnly, hostPathType: hostPathType(m.source) };
  });
  return {
    name: cfg.name,
    id: cfg.id,
    image: cfg.imageName,
    entrypoint: cfg.entrypoint,
    cmd: cfg.cmd,
    env: cfg.env,
    defaultEnv: [`HOSTNAME=${cfg.hostname}`, 'container=tspod', 'TERM=xterm', DEFAULT_PATH],
    workdir: cfg.workdir,
    hostname: cfg.hostname,
    tty: cfg.tty,
    stdin: cfg.stdin,
    autoRemove: cfg.autoRemove,
    init: cfg.init,
    readOnly: cfg.readOnly,
    caps: cfg.caps,
    hostNetwork: cfg.network === 'host',
    restartPolicy: cfg.restartPolicy,
    ports: cfg.ports,
    mounts,
    imageConfig,
    runAs,
  };
}
