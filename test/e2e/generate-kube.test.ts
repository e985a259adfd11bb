// generate kube as the unprivileged user, from real containers: the YAML parses (with an
// independent reader), validates against the Kubernetes API schema, uses only the API's field
// names, and carries what the containers were made with.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { freshStore, REFERENCE_DIR, removeStore, REGISTRY, TEST_USER, tspod, type RunResult } from '../lib';
import { assertKnownFields, KUBE_TYPES, validateKube } from './generate-helpers';

const IMAGE = `${REGISTRY}/busybox`;
const REFERENCE = path.join(REFERENCE_DIR, 'generate-kube.yaml');
const show = (r: RunResult) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

async function ok(p: Promise<RunResult>): Promise<RunResult> {
  const r = await p;
  assert.is(r.code, 0, show(r));
  return r;
}

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function docs(text: string): Promise<Obj[]> {
  const all = parseAllDocuments(text);
  for (const d of all) assert.equal(d.errors, [], `YAML errors:\n${text}`);
  const out = all.map((d) => d.toJS() as Obj).filter((d) => d !== null);
  for (const d of out) {
    await validateKube(d);
    assertKnownFields(d, d.kind === 'Service' ? KUBE_TYPES.service : KUBE_TYPES.pod);
  }
  return out;
}

let store = '';
let work = '';

const kube = suite('generate kube');

kube.before(async () => {
  store = await freshStore(TEST_USER);
  // A scratch directory of the user's, removed by the harness even after a crash.
  work = await freshStore(TEST_USER);
  await ok(tspod(TEST_USER, ['pull', '-q', IMAGE], { store }));
  fs.writeFileSync(path.join(work, 'file'), 'x');
});

kube.after(() => {
  removeStore(store);
  removeStore(work);
});

kube("the reference container gives podman's YAML", async () => {
  // Created, not started: the YAML describes the configuration, and the port stays free.
  await ok(tspod(TEST_USER, ['create', '--name', 'web', '-p', '127.0.0.1:18081:80', '-e', 'FOO=bar', '-v', '/tmp:/hosttmp:ro', IMAGE, 'httpd', '-f', '-p', '80'], { store }));
  const r = await ok(tspod(TEST_USER, ['generate', 'kube', 'web'], { store }));
  const body = (s: string) => s.slice(s.indexOf('---\n')).replace(/creationTimestamp: "[^"]+"/, 'creationTimestamp: T').trimEnd();
  assert.is(body(r.stdout), body(fs.readFileSync(REFERENCE, 'utf8')));
  assert.match(r.stdout, /^# Save the output of this file and use kubectl create -f to import\n# it into Kubernetes\.\n#\n# Created with tspod-\d/);
  const [pod] = await docs(r.stdout);
  assert.match(pod.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.is(r.stderr, '');
});

kube('user, capabilities, read-only root, working directory, entrypoint, UDP, files and named volumes', async () => {
  await ok(
    tspod(
      TEST_USER,
      [
        'create', '--name', 'app', '-u', 'user', '-w', '/srv', '--read-only', '--cap-add', 'NET_ADMIN', '--cap-drop', 'CHOWN',
        '-p', '5353:53/udp', '-e', 'A=1', '-e', 'SPACE=a b: c', '-v', `${path.join(work, 'file')}:/f:ro`, '-v', 'data:/data',
        '--tmpfs', '/scratch', '--entrypoint', '/bin/sh', IMAGE, '-c', 'echo hi',
      ],
      { store },
    ),
  );
  const [pod] = await docs((await ok(tspod(TEST_USER, ['generate', 'kube', 'app'], { store }))).stdout);
  const c = pod.spec.containers[0];
  assert.is(c.name, 'app');
  assert.is(c.image, 'localhost:5000/busybox:latest');
  assert.equal(c.command, ['/bin/sh']);
  assert.equal(c.args, ['-c', 'echo hi']);
  assert.is(c.workingDir, '/srv');
  assert.equal(c.env, [{ name: 'A', value: '1' }, { name: 'SPACE', value: 'a b: c' }]);
  assert.equal(c.ports, [{ containerPort: 53, hostPort: 5353, protocol: 'UDP' }]);
  assert.equal(c.securityContext, {
    capabilities: { add: ['CAP_NET_ADMIN'], drop: ['CAP_CHOWN', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_AUDIT_WRITE'] },
    readOnlyRootFilesystem: true,
    runAsGroup: 1000,
    runAsUser: 1000,
  });
  const vols = Object.fromEntries(pod.spec.volumes.map((v: Obj) => [v.name, v]));
  const mounts = Object.fromEntries(c.volumeMounts.map((m: Obj) => [m.mountPath, m]));
  assert.equal(vols[mounts['/f'].name].hostPath, { path: path.join(work, 'file'), type: 'File' });
  assert.is(mounts['/f'].readOnly, true);
  assert.equal(vols[mounts['/data'].name].persistentVolumeClaim, { claimName: 'data' });
  assert.equal(vols[mounts['/scratch'].name].emptyDir, { medium: 'Memory' });
});

kube('--service, two containers in one pod, and the numeric user of the image', async () => {
  await ok(tspod(TEST_USER, ['create', '--name', 'second', '-u', '1000:50', '-p', '127.0.0.1:18082:8080', IMAGE, 'sleep', '1'], { store }));
  const [pod, svc] = await docs((await ok(tspod(TEST_USER, ['generate', 'kube', '--service', 'web', 'second'], { store }))).stdout);
  assert.is(pod.kind, 'Pod');
  assert.is(svc.kind, 'Service');
  assert.equal(pod.spec.containers.map((x: Obj) => x.name), ['web', 'second']);
  assert.equal(pod.spec.containers[1].securityContext.runAsUser, 1000);
  assert.equal(pod.spec.containers[1].securityContext.runAsGroup, 50);
  assert.is(svc.spec.type, 'NodePort');
  assert.equal(svc.spec.selector, { app: 'web-pod' });
  assert.equal(svc.spec.ports.map((p: Obj) => [p.name, p.port, p.targetPort]), [['80', 80, 80], ['8080', 8080, 8080]]);
  for (const p of svc.spec.ports) assert.ok(p.nodePort >= 30000 && p.nodePort <= 32767, String(p.nodePort));
});

kube('-f writes the file, and will not replace one; errors are one line', async () => {
  const file = path.join(work, 'web.yaml');
  const r = await ok(tspod(TEST_USER, ['generate', 'kube', '-f', file, 'web'], { store }));
  assert.is(r.stdout, '');
  const [pod] = await docs(fs.readFileSync(file, 'utf8'));
  assert.is(pod.metadata.name, 'web-pod');
  const again = await tspod(TEST_USER, ['generate', 'kube', '--filename', file, 'web'], { store });
  assert.is(again.code, 125);
  assert.match(again.stderr, /^Error: cannot write to "[^"]+web\.yaml": file exists: choose another name or remove it\n$/);
  const missing = await tspod(TEST_USER, ['generate', 'kube', 'nosuch'], { store });
  assert.is(missing.code, 125);
  assert.match(missing.stderr, /^Error: no container with name or ID "nosuch" found: no such container\n$/);
  const noPorts = await tspod(TEST_USER, ['generate', 'kube', '--service', 'app'], { store });
  assert.is(noPorts.code, 0, 'app publishes a UDP port');
  await ok(tspod(TEST_USER, ['create', '--name', 'closed', IMAGE, 'true'], { store }));
  const closed = await tspod(TEST_USER, ['generate', 'kube', '--service', 'closed'], { store });
  assert.is(closed.code, 125);
  assert.match(closed.stderr, /^Error: generate kube --service: closed-pod publishes no ports: a Service needs at least one \(run the container with -p\)\n$/);
});

kube.run();
