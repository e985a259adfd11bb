import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base';

export class GenerateKubeCommand extends TspodCommand {
  static paths = [['generate', 'kube']];
  static synopsis = '[options] CONTAINER [CONTAINER...]';
  static usage = Command.Usage({
    description: 'Generate Kubernetes YAML based on containers',
    details:
      'Writes a Kubernetes v1 Pod holding the containers (and with --service a NodePort Service for their published ports): images, commands, environment, ports, bind mounts as hostPath volumes, users and capabilities.',
    examples: [
      ['The pod of one container', '$0 generate kube web'],
      ['Pod and service into a file', '$0 generate kube --service -f web.yaml web'],
    ],
  });

  filename = Option.String('-f,--filename', { description: 'Write output to the specified path' });
  service = Option.Boolean('-s,--service', false, { description: 'Generate YAML for a Kubernetes service object' });
  containers = Option.Rest({ required: 1 });

  async execute(): Promise<number> {
    const { buildPod, buildService, kubeInput, renderKube } = await import('../../core/generate/kube');
    const { requireContainer } = await import('../../core/container/record');
    const { writeFileAtomic } = await import('../../core/fsutil');
    const { TspodError } = await import('../../core/errors');
    const { VERSION } = await import('../../core/version');
    const store = await this.store();
    const inputs = this.containers.map((name) => kubeInput(store, requireContainer(store, name)));
    const pod = buildPod(inputs, { now: new Date() });
    const docs = this.service ? [pod, buildService(pod)] : [pod];
    const text = renderKube(docs, { version: VERSION, hostPaths: inputs.some((c) => c.mounts.some((m) => m.kind === 'hostPath')) });
    if (this.filename === undefined) {
      this.out(text);
      return 0;
    }
    const file = path.resolve(this.filename);
    // As podman: an existing file is not replaced.
    if (fs.existsSync(file)) throw new TspodError(`cannot write to ${JSON.stringify(file)}: file exists: choose another name or remove it`);
    writeFileAtomic(file, text, 0o644);
    return 0;
  }
}
