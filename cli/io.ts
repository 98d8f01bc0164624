import { readFile } from 'node:fs/promises';
import { parseArgs as parseNodeArgs } from 'node:util';
import { RegistrarError } from '../lib/errors';

/** The streams and environment a command uses; injected so commands can be tested in-process. */
export interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
}

/** A command-line mistake or unreadable input: exit code 2 with a one-line message. */
export class UsageError extends RegistrarError {
  constructor(message: string, options?: ErrorOptions) {
    super('usage', message, options);
  }
}

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
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${path === '-' ? 'stdin' : path} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** The options a command takes: `values` once each (the last one given wins), `lists` any number of times. */
export interface OptionSpec {
  values: string[];
  switches: string[];
  lists?: string[];
}

export interface ParsedArgs {
  positional: string[];
  values: Record<string, string>;
  switches: Set<string>;
  lists: Record<string, string[]>;
}

/**
 * Splits `--flag value` / `--flag=value` / `--switch` options from positional arguments, with Node's
 * `util.parseArgs` (a `--` ends the options). It runs in its lenient mode so that every mistake becomes one
 * UsageError line in this CLI's words: an unknown option, a value option without a value (or followed by
 * another option), a switch given a value.
 */
export function parseArgs(args: string[], spec: OptionSpec): ParsedArgs {
  const type = new Map<string, 'value' | 'list' | 'switch'>([
    ...spec.values.map((name) => [name, 'value'] as const),
    ...(spec.lists ?? []).map((name) => [name, 'list'] as const),
    ...spec.switches.map((name) => [name, 'switch'] as const),
  ]);
  const { tokens } = parseNodeArgs({
    args,
    options: Object.fromEntries(
      [...type].map(([name, kind]) => [
        name,
        kind === 'switch' ? { type: 'boolean' as const } : { type: 'string' as const, multiple: kind === 'list' },
      ]),
    ),
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  const parsed: ParsedArgs = { positional: [], values: {}, switches: new Set(), lists: {} };
  for (const token of tokens) {
    if (token.kind === 'positional') parsed.positional.push(token.value);
    if (token.kind !== 'option') continue;
    const kind = type.get(token.name);
    if (kind === undefined) throw new UsageError(`unknown option ${token.rawName}`);
    if (kind === 'switch') {
      if (token.value !== undefined) throw new UsageError(`${token.rawName} takes no value`);
      parsed.switches.add(token.name);
      continue;
    }
    // lenient mode takes the next argument whatever it is: `--namespace --live` is a forgotten value.
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('--'))) {
      throw new UsageError(`${token.rawName} needs a value`);
    }
    if (kind === 'list') parsed.lists[token.name] = [...(parsed.lists[token.name] ?? []), token.value];
    else parsed.values[token.name] = token.value;
  }
  return parsed;
}
