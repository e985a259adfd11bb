// The executable's entry: run, flush, exit (keep-alive sockets must not hold the process).

import { run } from './main';

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (!stream.writableLength) return resolve();
    stream.write('', () => resolve());
  });
}

run(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env })
  .catch((err: unknown) => {
    process.stderr.write(`Error: ${(err as Error).message}\n`);
    return 125;
  })
  .then(async (code) => {
    await Promise.all([flush(process.stdout), flush(process.stderr)]);
    process.exit(code);
  });
