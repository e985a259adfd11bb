// Reading answers from the terminal (or from a pipe when stdin is not a terminal).

import * as readline from 'node:readline';

/** One line from stdin; with `silent` the typing is not echoed (passwords). */
export function readLine(stdin: NodeJS.ReadableStream, stderr: NodeJS.WritableStream, question: string, silent = false): Promise<string> {
  return new Promise((resolve) => {
    const input = stdin as NodeJS.ReadStream;
    const rl = readline.createInterface({ input, output: silent ? undefined : stderr, terminal: !silent && !!input.isTTY });
    if (silent) {
      stderr.write(question);
      if (input.isTTY) input.setRawMode?.(false);
    }
    let answered = false;
    rl.question(silent ? '' : question, (answer) => {
      answered = true;
      if (silent) stderr.write('\n');
      rl.close();
      resolve(answer);
    });
    rl.on('close', () => {
      if (!answered) resolve('');
    });
  });
}

/** All of stdin (--password-stdin). */
export async function readAll(stdin: NodeJS.ReadableStream): Promise<string> {
  let s = '';
  for await (const chunk of stdin) s += chunk.toString();
  return s;
}

/** Asks a yes/no question; anything but y/yes is no. */
export async function confirm(stdin: NodeJS.ReadableStream, stderr: NodeJS.WritableStream, question: string): Promise<boolean> {
  const a = (await readLine(stdin, stderr, `${question} [y/N] `)).trim().toLowerCase();
  return a === 'y' || a === 'yes';
}
