import { Command, Option, UsageError } from 'clipanion';
import { TspodCommand } from '../base';

async function defaultRegistry(input: string | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  if (input) return input;
  // podman: the first unqualified-search registry, else docker.io
  const { loadRegistriesConf } = await import('../../core/registry');
  return loadRegistriesConf(env).unqualifiedSearchRegistries[0] ?? 'docker.io';
}

export class LoginCommand extends TspodCommand {
  static paths = [['login']];
  static synopsis = '[options] [REGISTRY]';
  static usage = Command.Usage({
    description: 'Login to a container registry',
    details: 'Checks the credentials against the registry and stores them in the authentication file (mode 0600).',
    examples: [['Log in with a prompt', '$0 login localhost:5001'], ['From a script', 'echo "$PASS" | $0 login -u user --password-stdin quay.io']],
  });

  username = Option.String('-u,--username', { description: 'Username for registry' });
  password = Option.String('-p,--password', { description: 'Password for registry' });
  passwordStdin = Option.Boolean('--password-stdin', false, { description: 'Take the password from stdin' });
  getLogin = Option.Boolean('--get-login', false, { description: 'Return the current login user for the registry' });
  authfile = Option.String('--authfile', { description: 'path of the authentication file' });
  certDir = Option.String('--cert-dir', { description: 'use certificates at the specified path to access the registry' });
  tlsVerify = Option.Boolean('--tls-verify', { description: 'require HTTPS and verify certificates when contacting registries (default true)' });
  verbose = Option.Boolean('-v,--verbose', false, { description: 'Write more detailed information to stdout' });
  registry = Option.String({ required: false });

  async execute(): Promise<number> {
    const reg = await import('../../core/registry');
    const { TspodError } = await import('../../core/errors');
    const domain = await defaultRegistry(this.registry, this.context.env);
    const opts = {
      env: this.context.env,
      ...(this.authfile ? { authFile: this.authfile } : {}),
      ...(this.certDir ? { certDir: this.certDir } : {}),
      ...(this.tlsVerify !== undefined ? { tlsVerify: this.tlsVerify } : {}),
    };
    if (this.getLogin) {
      this.out(`${reg.getLogin(domain, opts)}\n`);
      return 0;
    }
    if (this.password !== undefined && this.passwordStdin) throw new UsageError('--password and --password-stdin are mutually exclusive');
    const { readLine, readAll } = await import('../prompt');
    let username = this.username;
    let password = this.password;
    if (this.passwordStdin) {
      if (!username) throw new UsageError('must provide --username with --password-stdin');
      password = (await readAll(this.context.stdin)).replace(/\r?\n$/, '');
    }
    if (!username) username = (await readLine(this.context.stdin, this.context.stderr, 'Username: ')).trim();
    if (password === undefined) password = await readLine(this.context.stdin, this.context.stderr, 'Password: ', true);
    if (!username) throw new TspodError('username is empty');
    if (!password) throw new TspodError('password is empty');
    const result = await reg.login(domain, { username, password }, opts);
    this.out(`${result.message}\n`);
    return 0;
  }
}

export class LogoutCommand extends TspodCommand {
  static paths = [['logout']];
  static synopsis = '[options] [REGISTRY]';
  static usage = Command.Usage({
    description: 'Logout of a container registry',
    details: 'Removes the credentials stored for the registry from the authentication file.',
  });

  all = Option.Boolean('-a,--all', false, { description: 'Remove the cached credentials for all registries in the auth file' });
  authfile = Option.String('--authfile', { description: 'path of the authentication file' });
  registry = Option.String({ required: false });

  async execute(): Promise<number> {
    const reg = await import('../../core/registry');
    const opts = { env: this.context.env, ...(this.authfile ? { authFile: this.authfile } : {}) };
    const domain = this.all ? undefined : await defaultRegistry(this.registry, this.context.env);
    this.out(`${await reg.logout(domain, opts)}\n`);
    return 0;
  }
}
