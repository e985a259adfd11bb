import { Command, Option, UsageError } from 'clipanion';
import { TspodCommand } from '../base';
import { registryFlag, toRegistryOptions } from '../flags';

export class PullCommand extends TspodCommand {
  static paths = [['pull'], ['image', 'pull']];
  static synopsis = '[options] IMAGE [IMAGE...]';
  static usage = Command.Usage({
    description: 'Pull an image from a registry',
    details: 'Pulls an image from a registry and stores it locally. An image can be pulled by tag or digest. If a tag is not specified, the image with the "latest" tag is pulled.',
    examples: [
      ['Pull from Docker Hub', '$0 pull busybox'],
      ['Pull from a local registry without TLS', '$0 pull --tls-verify=false localhost:5000/app:1.2'],
      ['Pull another platform', '$0 pull --platform linux/arm64 busybox'],
    ],
  });

  quiet = Option.Boolean('-q,--quiet', false, { description: 'Suppress output information when pulling images' });
  platform = Option.String('--platform', { description: 'Specify the platform for selecting the image (OS/ARCH[/VARIANT])' });
  arch = Option.String('--arch', { description: 'use ARCH instead of the architecture of the machine for choosing images' });
  os = Option.String('--os', { description: 'use OS instead of the running OS for choosing images' });
  variant = Option.String('--variant', { description: 'Use VARIANT instead of the running architecture variant for choosing images' });
  tlsVerify = registryFlag.tlsVerify();
  authfile = registryFlag.authfile();
  certDir = registryFlag.certDir();
  creds = registryFlag.creds();
  images = Option.Rest({ required: 1 });

  async execute(): Promise<number> {
    const { pullImage } = await import('../../core/image/pull');
    const { platformFromOptions } = await import('../../core/registry');
    const store = await this.store();
    const opts = toRegistryOptions(this, this.context.env);
    if (this.platform && (this.arch || this.os || this.variant)) throw new UsageError('--platform cannot be used with --arch, --os or --variant');
    const platform = platformFromOptions({ platform: this.platform, os: this.os, arch: this.arch, variant: this.variant });
    const stderr = this.context.stderr as NodeJS.WriteStream;
    for (const input of this.images) {
      let finish: ((ok: boolean) => void) | undefined;
      let progress;
      if (!this.quiet) {
        const { canShowLive, plainPullProgress, ttyPullProgress } = await import('../progress');
        if (canShowLive(stderr)) {
          const p = await ttyPullProgress(stderr, this.context.env);
          finish = p.finish;
          progress = p;
        } else {
          progress = plainPullProgress(stderr);
        }
      }
      try {
        const { image } = await pullImage(store, input, { ...opts, platform, progress });
        finish?.(true);
        this.out(`${image.id}\n`);
      } catch (err) {
        finish?.(false);
        throw err;
      }
    }
    return 0;
  }
}
