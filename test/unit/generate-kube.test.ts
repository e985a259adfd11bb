// generate kube's pure part: the Pod and Service built from containers. Checked against podman's
// own output for the same container, against the Kubernetes API schema (kubernetes-models), and
// against the API's field names (no key the API server would silently drop).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { buildPod, buildService, renderKube, resolveUser, kubeName, hostPathVolumeName, type KubeContainerInput } from '../../core/generate/kube';
import { TspodError } from '../../core/errors';
import { assertKnownFields, validateKube, KUBE_TYPES } from '../e2e/generate-helpers';
import { REFERENCE_DIR } from '../lib';

const REFERENCE = path.join(REFERENCE_DIR, 'generate-kube.yaml');
const NOW = new Date('2026-11-22T08:31:00.123Z');
const TSPOD_CAPS = ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'];

/** The container of the reference: run -d --name web -p 127.0.0.1:18081:80 -e FOO=bar -v /tmp:/hosttmp:ro busybox httpd -f -p 80 */
function web(over: Partial<KubeContainerInput> = {}): KubeContainerInput {
  return {
    name: 'web',
    id: '61090dbcaf4afe72ff970af42002a0e73cd39c60014c75614352737afeda001c',
    image: 'localhost:5000/busybox:latest',
    entrypoint: [],
    cmd: ['httpd', '-f', '-p', '80'],
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=61090dbcaf4a', 'container=tspod', 'FOO=bar'],
    defaultEnv: ['HOSTNAME=61090dbcaf4a', 'container=tspod', 'TERM=xterm', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    workdir: '/',
    hostname: '61090dbcaf4a',
    tty: false,
    stdin: false,
    autoRemove: false,
    init: false,
    readOnly: false,
    caps: TSPOD_CAPS,
    hostNetwork: false,
    restartPolicy: '',
    ports: [{ hostIp: '127.0.0.1', hostPort: 18081, containerPort: 80, protocol: 'tcp', range: 1 }],
    mounts: [{ kind: 'hostPath', source: '/tmp', destination: '/hosttmp', readOnly: true, hostPathType: 'Directory' }],
    imageConfig: { Cmd: ['sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    ...over,
  };
}

/** The object as a reader sees it: keys with undefined values are not written. */
function plain<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function docsOf(text: string): Array<Record<string, unknown>> {
  return parseAllDocuments(text).map((d) => d.toJS() as Record<string, unknown>).filter((d) => d !== null);
}

async function assertValid(doc: Record<string, unknown>): Promise<void> {
  await validateKube(doc);
  assertKnownFields(doc, doc.kind === 'Service' ? KUBE_TYPES.service : KUBE_TYPES.pod);
}

test("the reference container's Pod is podman's, line for line", () => {
  const text = renderKube([buildPod([web()], { now: NOW })], { version: '0.1.0', hostPaths: true });
  const reference = fs.readFileSync(REFERENCE, 'utf8');
  const body = (s: string) => s.slice(s.indexOf('---\n')).trimEnd();
  assert.is(body(text), body(reference));
  // The header is podman's, naming tspod.
  assert.ok(text.startsWith('# Save the output of this file and use kubectl create -f to import\n# it into Kubernetes.\n#\n# Created with tspod-0.1.0\n'));
  assert.match(text, /# NOTE: If you generated this yaml from an unprivileged and rootless tspod container/);
  assert.not.match(renderKube([buildPod([web({ mounts: [] })], { now: NOW })], { version: '0.1.0', hostPaths: false }), /NOTE/);
});

test('the Pod and the Service are valid Kubernetes v1 objects with known fields only', async () => {
  const pod = buildPod([web()], { now: NOW });
  const docs = docsOf(renderKube([pod, buildService(pod, () => 0.5)], { version: '0.1.0', hostPaths: true }));
  assert.is(docs.length, 2);
  for (const d of docs) await assertValid(d);
  const svc = docs[1] as { spec: { type: string; selector: unknown; ports: Array<Record<string, unknown>> }; metadata: Record<string, unknown> };
  assert.is(svc.spec.type, 'NodePort');
  assert.equal(svc.spec.selector, { app: 'web-pod' });
  assert.equal(plain(svc.spec.ports), [{ name: '80', nodePort: 31384, port: 80, targetPort: 80 }]);
  assert.equal(svc.metadata.labels, { app: 'web-pod' });
  assert.is(svc.metadata.annotations, undefined, 'the pod annotations are not the service');
});

test('the schema check is real: a wrong type or an unknown field is caught', async () => {
  const pod = docsOf(renderKube([buildPod([web()], { now: NOW })], { version: 'x', hostPaths: false }))[0] as {
    kind: string;
    spec: { containers: Array<Record<string, unknown>> };
  };
  const badType = structuredClone(pod);
  (badType.spec.containers[0].ports as Array<Record<string, unknown>>)[0].containerPort = '80';
  let threw = false;
  try {
    await validateKube(badType);
  } catch {
    threw = true;
  }
  assert.ok(threw, 'containerPort as a string is refused');
  const unknown = structuredClone(pod);
  (unknown.spec.containers[0].ports as Array<Record<string, unknown>>)[0].hostIp = '127.0.0.1';
  assert.throws(() => assertKnownFields(unknown, KUBE_TYPES.pod), /hostIp: not a field of ContainerPort/);
  const unknown2 = structuredClone(pod);
  (unknown2.spec as Record<string, unknown>).restartpolicy = 'Never';
  assert.throws(() => assertKnownFields(unknown2, KUBE_TYPES.pod), /restartpolicy: not a field of PodSpec/);
});

test('entrypoint and command: command is the entrypoint, args the command; what the image runs anyway is left out', async () => {
  const withEp = buildPod([web({ entrypoint: ['/bin/sh', '-c'], cmd: ['echo hi'] })], { now: NOW });
  const c = (withEp.spec as { containers: Array<Record<string, unknown>> }).containers[0];
  assert.equal(c.command, ['/bin/sh', '-c']);
  assert.equal(c.args, ['echo hi']);
  const imageCmd = buildPod([web({ cmd: ['sh'] })], { now: NOW });
  assert.is((imageCmd.spec as { containers: Array<Record<string, unknown>> }).containers[0].command, undefined);
  const imageEp = buildPod([web({ entrypoint: ['/entry'], cmd: ['a'], imageConfig: { Entrypoint: ['/entry'], Cmd: ['a'] } })], { now: NOW });
  const ie = (imageEp.spec as { containers: Array<Record<string, unknown>> }).containers[0];
  assert.is(ie.command, undefined);
  assert.equal(ie.args, ['a']);
  await assertValid(docsOf(renderKube([withEp], { version: 'x', hostPaths: false }))[0]);
});

test('environment: only what differs from the image and tspod defaults', () => {
  const pod = buildPod(
    [web({ env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=61090dbcaf4a', 'container=tspod', 'A=1', 'IMG=x', 'IMG2=changed', 'EMPTY='], imageConfig: { Env: ['IMG=x', 'IMG2=orig'] } })],
    { now: NOW },
  );
  const env = plain((pod.spec as { containers: Array<{ env: unknown }> }).containers[0].env);
  assert.equal(env, [{ name: 'A', value: '1' }, { name: 'IMG2', value: 'changed' }, { name: 'EMPTY', value: '' }]);
});

test('securityContext: user, capabilities relative to the runtime default, read-only root', async () => {
  const pod = buildPod([web({ caps: [...TSPOD_CAPS.filter((c) => c !== 'CHOWN'), 'NET_ADMIN', 'MKNOD'], readOnly: true, runAs: { uid: 1000, gid: 100 } })], { now: NOW });
  const sc = plain((pod.spec as { containers: Array<{ securityContext: Record<string, unknown> }> }).containers[0].securityContext);
  assert.equal(sc, {
    capabilities: { add: ['CAP_NET_ADMIN'], drop: ['CAP_CHOWN', 'CAP_NET_RAW', 'CAP_AUDIT_WRITE'] },
    readOnlyRootFilesystem: true,
    runAsUser: 1000,
    runAsGroup: 100,
  });
  await assertValid(docsOf(renderKube([pod], { version: 'x', hostPaths: true }))[0]);
  const kubeDefault = ['CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE'];
  const asKube = buildPod([web({ caps: kubeDefault })], { now: NOW });
  assert.is((asKube.spec as { containers: Array<Record<string, unknown>> }).containers[0].securityContext, undefined, 'nothing to say: no securityContext');
});

test('ports: ranges expand, UDP is named, TCP and 0.0.0.0 are left to the defaults', async () => {
  const pod = buildPod(
    [web({ ports: [{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp', range: 3 }, { hostIp: '0.0.0.0', hostPort: 5353, containerPort: 53, protocol: 'udp', range: 1 }] })],
    { now: NOW },
  );
  const ports = plain((pod.spec as { containers: Array<{ ports: unknown }> }).containers[0].ports);
  assert.equal(ports, [
    { containerPort: 80, hostPort: 8080 },
    { containerPort: 81, hostPort: 8081 },
    { containerPort: 82, hostPort: 8082 },
    { containerPort: 53, hostPort: 5353, protocol: 'UDP' },
  ]);
  const svc = buildService(pod);
  const nodePorts = plain((svc.spec as { ports: Array<{ nodePort: number; protocol?: string }> }).ports);
  assert.is(nodePorts.length, 4);
  assert.is(new Set(nodePorts.map((p) => p.nodePort)).size, 4, 'node ports are distinct');
  for (const p of nodePorts) assert.ok(p.nodePort >= 30000 && p.nodePort <= 32767, String(p.nodePort));
  assert.is(nodePorts[3].protocol, 'UDP');
  for (const d of docsOf(renderKube([pod, svc], { version: 'x', hostPaths: true }))) await assertValid(d);
  // Even a random source that keeps repeating itself gives distinct ports.
  let n = 0;
  const sticky = () => (n++ < 10 ? 0 : (n % 7) / 7);
  const s2 = buildService(pod, sticky);
  assert.is(new Set((s2.spec as { ports: Array<{ nodePort: number }> }).ports.map((p) => p.nodePort)).size, 4);
});

test('a Service without ports is refused with a remedy', () => {
  const pod = buildPod([web({ ports: [] })], { now: NOW });
  assert.throws(() => buildService(pod), (e: unknown) => e instanceof TspodError && /publishes no ports.*-p/.test(e.message));
});

test('volumes: hostPath by type, named volumes as claims, tmpfs as memory; shared sources once', async () => {
  const a = web({
    name: 'a',
    mounts: [
      { kind: 'hostPath', source: '/', destination: '/host', readOnly: false, hostPathType: 'Directory' },
      { kind: 'hostPath', source: '/etc/hosts', destination: '/h', readOnly: true, hostPathType: 'File' },
      { kind: 'hostPath', source: '/no/such/', destination: '/n', readOnly: false, hostPathType: 'DirectoryOrCreate' },
      { kind: 'volume', source: 'data', destination: '/data', readOnly: false },
      { kind: 'tmpfs', source: '', destination: '/run', readOnly: false },
    ],
  });
  const b = web({ name: 'b_2', ports: [], mounts: [{ kind: 'hostPath', source: '/', destination: '/host', readOnly: true, hostPathType: 'Directory' }] });
  const pod = buildPod([a, b], { now: NOW });
  const spec = plain(pod.spec as { volumes: Array<Record<string, unknown>>; containers: Array<{ name: string; volumeMounts: unknown }> });
  assert.equal(spec.volumes, [
    { name: 'root-host-0', hostPath: { path: '/', type: 'Directory' } },
    { name: 'etc-hosts-host-1', hostPath: { path: '/etc/hosts', type: 'File' } },
    { name: 'no-such-host-2', hostPath: { path: '/no/such/', type: 'DirectoryOrCreate' } },
    { name: 'data-pvc', persistentVolumeClaim: { claimName: 'data' } },
    { name: 'run-tmpfs-4', emptyDir: { medium: 'Memory' } },
  ]);
  assert.equal(spec.containers[1].volumeMounts, [{ mountPath: '/host', name: 'root-host-0', readOnly: true }]);
  assert.is(spec.containers[1].name, 'b2', 'underscores are dropped, as podman does');
  assert.is((pod.metadata as { name: string }).name, 'a-pod');
  for (const d of docsOf(renderKube([pod], { version: 'x', hostPaths: true }))) await assertValid(d);
});

test('two different sources that would share a volume name get distinct names', () => {
  const a = web({ name: 'a', mounts: [{ kind: 'hostPath', source: '/a-b', destination: '/x', readOnly: false, hostPathType: 'Directory' }] });
  const b = web({ name: 'b', ports: [], mounts: [{ kind: 'hostPath', source: '/a/b', destination: '/y', readOnly: false, hostPathType: 'Directory' }] });
  const spec = buildPod([a, b], { now: NOW }).spec as { volumes: Array<{ name: string; hostPath: { path: string } }>; containers: Array<{ volumeMounts: Array<{ name: string }> }> };
  assert.equal(spec.volumes.map((v) => [v.name, v.hostPath.path]), [['a-b-host-0', '/a-b'], ['a-b-host-0-1', '/a/b']]);
  assert.is(spec.containers[1].volumeMounts[0].name, 'a-b-host-0-1');
});

test('pod settings: host network, chosen hostname, restart policy, tty and stdin', async () => {
  const pod = buildPod([web({ hostNetwork: true, hostname: 'myhost', restartPolicy: 'on-failure:3', tty: true, stdin: true })], { now: NOW });
  const spec = pod.spec as Record<string, unknown> & { containers: Array<Record<string, unknown>> };
  assert.is(spec.hostNetwork, true);
  assert.is(spec.hostname, 'myhost');
  assert.is(spec.restartPolicy, 'OnFailure');
  assert.is(spec.containers[0].tty, true);
  assert.is(spec.containers[0].stdin, true);
  assert.is((pod.metadata as { annotations: Record<string, string> }).annotations['io.kubernetes.cri-o.TTY/web'], 'true');
  await assertValid(docsOf(renderKube([pod], { version: 'x', hostPaths: true }))[0]);
  for (const [policy, want] of [['always', 'Always'], ['unless-stopped', 'Always'], ['no', 'Never'], ['', undefined]] as const) {
    assert.is((buildPod([web({ restartPolicy: policy })], { now: NOW }).spec as Record<string, unknown>).restartPolicy, want, policy);
  }
  const def = buildPod([web()], { now: NOW }).spec as Record<string, unknown>;
  assert.is(def.hostname, undefined, 'the default hostname (the short ID) is not carried');
  assert.is(def.hostNetwork, undefined);
});

test('names become DNS labels Kubernetes accepts', () => {
  const table: Array<[string, string]> = [
    ['web', 'web'],
    ['my_app', 'myapp'],
    ['My.App', 'my-app'],
    ['--x--', 'x'],
    ['a'.repeat(80), 'a'.repeat(63)],
    ['___', 'container'],
    ['ünï', 'n'],
  ];
  for (const [input, want] of table) {
    assert.is(kubeName(input), want, input);
    assert.match(kubeName(input), /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  }
  assert.is(hostPathVolumeName('/mnt/data/'), 'mnt-data');
  assert.is(hostPathVolumeName('/'), 'root');
  assert.is(hostPathVolumeName('//'), 'root');
});

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\nweird:x:notanumber:1::/:/bin/sh\n# comment\n';
const GROUP = 'root:x:0:\nstaff:x:50:user\nusers:x:100:\n';

test('users resolve from the container files: names, numbers, groups', () => {
  const table: Array<[string, { uid: number; gid: number }]> = [
    ['user', { uid: 1000, gid: 1000 }],
    ['1000', { uid: 1000, gid: 1000 }],
    ['user:staff', { uid: 1000, gid: 50 }],
    ['user:7', { uid: 1000, gid: 7 }],
    ['0:users', { uid: 0, gid: 100 }],
    ['4242', { uid: 4242, gid: 0 }],
    ['root', { uid: 0, gid: 0 }],
  ];
  for (const [u, want] of table) assert.equal(resolveUser(u, PASSWD, GROUP), want, u);
  assert.throws(() => resolveUser('nobody', PASSWD, GROUP), /user "nobody" is not in the container's \/etc\/passwd/);
  assert.throws(() => resolveUser('user:nogroup', PASSWD, GROUP), /group "nogroup" is not in the container's \/etc\/group/);
  assert.throws(() => resolveUser('weird', PASSWD, GROUP), /not in the container/);
  assert.throws(() => resolveUser('user', undefined, undefined), /not in the container/);
});

test.run();
