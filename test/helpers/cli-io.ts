import { PassThrough } from 'node:stream';
import type { CliIo } from '../../cli/io';
import { main } from '../../cli/main';

/** Stream-backed CLI io with this environment and stdin text; `captured` collects what is written to stdout and stderr. */
export function captureIo(env: CliIo['env'] = {}, stdinText = '') {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const captured = { out: '', err: '' };
  stdout.on('data', (c) => {
    captured.out += c;
  });
  stderr.on('data', (c) => {
    captured.err += c;
  });
  stdin.end(stdinText);
  const io: CliIo = { stdin, stdout, stderr, env };
  return { io, captured };
}

/** Runs the registrar CLI in-process with captured io; returns its exit code and what it wrote. */
export async function runCli(args: string[], env: CliIo['env'] = {}, stdinText = '') {
  const { io, captured } = captureIo(env, stdinText);
  const code = await main(args, io);
  return { code, out: captured.out, err: captured.err };
}
