import { readFile } from 'node:fs/promises';

/** The streams and environment a command uses; injected so commands can be tested in-process. */
export interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
}

/** A command-line mistake or unreadable input: exit code 2 with a one-line message. */
export class UsageError extends Error {}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads a JSON document from a file, or from stdin when the path is `-`. */
export async function readJsonInput(path: string, io: CliIo): Promise<unknown> {
  let text: string;
  try {
    text = path === '-' ? await readStream(io.stdin) : await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${path === '-' ? 'stdin' : path} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Splits `--flag value` / `--flag=value` / `--switch` options from positional arguments. */
export function parseArgs(
  args: string[],
  spec: { values: string[]; switches: string[]; lists?: string[] },
): {
  positional: string[];
  values: Record<string, string>;
  switches: Set<string>;
  lists: Record<string, string[]>;
} {
  const positional: string[] = [];
  const values: Record<string, string> = {};
  const lists: Record<string, string[]> = {};
  const switches = new Set<string>();
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('--') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const [flag, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (spec.switches.includes(flag) && inline === undefined) {
      switches.add(flag);
    } else if (spec.values.includes(flag) || spec.lists?.includes(flag)) {
      const value = inline ?? args[i + 1];
      if (value === undefined || (inline === undefined && value.startsWith('--')))
        throw new UsageError(`--${flag} needs a value`);
      if (spec.lists?.includes(flag)) lists[flag] = [...(lists[flag] ?? []), value];
      else values[flag] = value;
      if (inline === undefined) i += 1;
    } else {
      throw new UsageError(`unknown option --${flag}`);
    }
  }
  return { positional, values, switches, lists };
}
