import { ConfigError } from '../lib/errors';
import { CONSOLE_USAGE, consoleCommand } from './console-command';
import { type CliIo, UsageError } from './io';
import { PLAN_USAGE, planCommand } from './plan-command';
import { RECONCILE_USAGE, reconcileCommand } from './reconcile-command';
import { REPLAY_DLQ_USAGE, replayDlqCommand } from './replay-dlq-command';

const COMMANDS: Record<string, { run: (args: string[], io: CliIo) => Promise<number>; usage: string }> = {
  plan: { run: planCommand, usage: PLAN_USAGE },
  'replay-dlq': { run: (args, io) => replayDlqCommand(args, io), usage: REPLAY_DLQ_USAGE },
  reconcile: { run: reconcileCommand, usage: RECONCILE_USAGE },
  console: { run: (args, io) => consoleCommand(args, io), usage: CONSOLE_USAGE },
};

const HELP = `usage: registrar <command> [options]

commands:
${Object.values(COMMANDS)
  .map((c) => `  ${c.usage.split('\n')[0]}`)
  .join('\n')}

registrar <command> --help shows a command's options.`;

/** Runs one command and returns its exit code; usage mistakes and bad input exit 2 with one line on stderr. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--help' || name === 'help') {
    io.stdout.write(`${HELP}\n`);
    return 0;
  }
  const command = name === undefined ? undefined : COMMANDS[name];
  if (!command) {
    const what = name === undefined ? 'a command is needed' : `unknown command "${name}"`;
    io.stderr.write(`registrar: ${what}: ${Object.keys(COMMANDS).join(', ')} (registrar --help shows more)\n`);
    return 2;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      io.stderr.write(`registrar ${name}: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}
