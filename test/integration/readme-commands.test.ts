import { exec } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DescribeTasksCommand, ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { createOrScale } from '../../local/create-service';
import { deliveryFromConfig } from '../../local/delivery';
import { invokeFunction, loadLocalTriggers } from '../../local/rules';
import { type LocalAws, startLocalAws } from '../../local/stack';
import { serveFunctions } from '../helpers/offline-functions';

/**
 * Every command the README prints for the local stack, run as printed (ports aside) against what
 * `npm start` runs: the same startLocalAws (emulator + dynalite, the task table serverless.yml resolves
 * for stage local, the namespace) with the real functions served in this process in place of
 * serverless-offline (test/helpers/offline-functions.ts), all on ports the OS picks. The fixed ports in
 * the commands (4566, 3000, 3002) are rewritten to those; a command without a port reaches the endpoint
 * through LOCAL_AWS_PORT, as the README documents. Commands run in a shell with no AWS variables set,
 * as on an operator's machine.
 */

const ROOT = join(__dirname, '..', '..');
const NAMESPACE = 'kudos.local';
const CLUSTER = 'kudos';
const run = promisify(exec);

/** The text of a `## ` section of the README, up to the next one. */
function section(readme: string, title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README.md has no section "## ${title}"`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** The commands of a section's ```sh blocks: continuation lines joined, comments cut. */
function shellCommands(text: string): string[] {
  const blocks = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
  return blocks
    .flatMap((block) => block.replace(/\\\n\s*/g, ' ').split('\n'))
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** A command for the local stack: it starts it, drives it (`npm run local:*`) or names a loopback address. */
const STARTS_STACK = /^(npm ci && )?npm start\b/;
const isLocalStackCommand = (command: string) =>
  STARTS_STACK.test(command) || /^npm run local:/.test(command) || /\b(127\.0\.0\.1|localhost)\b/.test(command);

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const COMMANDS = ['Local stack', 'Operator commands']
  .flatMap((title) => shellCommands(section(readme, title)))
  .filter(isLocalStackCommand);

/** The operator's shell: this process's environment without any AWS variable (jest's setup sets some). */
const OPERATOR_ENV = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));

let aws: LocalAws;
let functions: Awaited<ReturnType<typeof serveFunctions>>;
let ecs: ECSClient;

beforeAll(async () => {
  const { taskTable, config } = await loadLocalTriggers('local', ROOT);
  const delivery = deliveryFromConfig(config, 'local');
  aws = await startLocalAws({
    port: 0,
    timeScale: 0.002,
    namespace: NAMESPACE,
    taskTable,
    dnsPort: 0,
    // As npm start: the delivery serverless.yml declares, each invocation through the Lambda invoke endpoint.
    delivery: {
      delivery,
      invoke: (name, payload) => invokeFunction(`http://127.0.0.1:${functions.lambdaPort}`, name, payload),
    },
  });
  const { emulator } = aws;
  // The functions' environment as local/start.ts gives it to serverless-offline, with serverless.yml's
  // table; the lookup cache off, so that each curl sees the state the previous command made.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SERVICEDISCOVERY: emulator.url,
    AWS_ENDPOINT_URL_ECS: emulator.url,
    AWS_ENDPOINT_URL_EC2: emulator.url,
    AWS_ENDPOINT_URL_DYNAMODB: emulator.url,
    AWS_ENDPOINT_URL_SQS: emulator.url,
    NAMESPACE,
    TASK_TABLE: taskTable,
    CACHE_INTERVAL_MS: '0',
    HEALTH_MAX_AGE_MS: '0',
  });
  // Required only now: each function reads its configuration at cold start.
  const register = require('../../functions/register').handler;
  const reconcile = require('../../functions/reconcile').handler;
  const lookup = require('../../functions/lookup').handler;
  const deregister = require('../../functions/deregister').handler;
  const handlers: Record<string, unknown> = { register, deregister, reconcile };
  functions = await serveFunctions({
    lookup,
    functions: Object.fromEntries(
      delivery.functions.filter((fn) => handlers[fn.key]).map((fn) => [fn.name, handlers[fn.key] as typeof register]),
    ),
  });
  ecs = new ECSClient({
    endpoint: emulator.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}, 120_000);

afterAll(async () => {
  ecs?.destroy();
  await functions?.stop();
  await aws?.stop();
});

/** The command with the local stack's fixed ports replaced by this test's (`dig -p 8053`: its DNS port). */
function withTestPorts(command: string): string {
  const ports: Record<string, number> = {
    '4566': aws.emulator.port,
    '3000': functions.httpPort,
    '3002': functions.lambdaPort,
  };
  return command
    .replace(/\b(127\.0\.0\.1|localhost):(\d+)/g, (whole, host: string, port: string) => {
      const replacement = ports[port];
      if (replacement === undefined) throw new Error(`nothing of the local stack serves ${whole} (in: ${command})`);
      return `${host}:${replacement}`;
    })
    .replace(/^(dig @127\.0\.0\.1 -p )8053\b/, (_whole, head: string) => `${head}${aws.emulator.dnsPort}`);
}

/** The ids of the tasks ECS runs for a service, sorted: what discovery must answer. */
async function runningTaskIds(service: string): Promise<string[]> {
  const { taskArns = [] } = await ecs.send(
    new ListTasksCommand({ cluster: CLUSTER, serviceName: service, desiredStatus: 'RUNNING' }),
  );
  if (taskArns.length === 0) return [];
  const { tasks = [] } = await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: taskArns }));
  return tasks
    .filter((task) => task.lastStatus === 'RUNNING')
    .map((task) => task.taskArn?.split('/').pop() ?? '')
    .sort();
}

/** Lost events: a service of `count` tasks starts while no event is delivered; only a reconcile can register it. */
async function loseEventsOf(service: string, count: number): Promise<void> {
  aws.emulator.setEventDelivery(false);
  await createOrScale(ecs, { name: service, count, cluster: CLUSTER, port: 8080 });
  await aws.emulator.idle();
  aws.emulator.setEventDelivery(true);
}

describe('the README commands for the local stack', () => {
  it('finds the commands it must run in the README', () => {
    expect(COMMANDS.some((command) => STARTS_STACK.test(command))).toBe(true);
    expect(COMMANDS.some((command) => /registrar reconcile .*--endpoint/.test(command))).toBe(true);
    expect(COMMANDS.filter((command) => /^curl /.test(command)).length).toBeGreaterThan(0);
  });

  it.each(COMMANDS.map((command) => [command]))(
    'runs `%s` as printed',
    async (command) => {
      if (STARTS_STACK.test(command)) {
        // beforeAll started what it starts; serverless-offline aside (see the file comment), it must answer.
        expect((await fetch(aws.emulator.url)).status).toBe(200);
        expect((await fetch(`http://127.0.0.1:${functions.httpPort}/services`)).status).toBe(200);
        return;
      }
      const reconciles = /registrar reconcile\b/.test(command) && !/--dry-run/.test(command);
      if (reconciles) await loseEventsOf('lost', 3);
      const missing = reconciles ? await runningTaskIds('lost') : [];
      if (reconciles) expect((await fetch(`http://127.0.0.1:${functions.httpPort}/services/lost`)).status).toBe(404);

      const { stdout } = await run(withTestPorts(command), {
        cwd: ROOT,
        env: {
          ...OPERATOR_ENV,
          LOCAL_AWS_PORT: String(aws.emulator.port),
          LOCAL_DNS_PORT: String(aws.emulator.dnsPort),
        },
        timeout: 60_000,
      });
      await aws.emulator.idle();

      const lookup = /^curl .*\/(services|resolve)\/([^/.\s?]+)(\.[^\s?]*)?/.exec(command);
      if (lookup) {
        const answer = JSON.parse(stdout) as { instances?: { id: string }[]; error?: string };
        expect(answer.error).toBeUndefined();
        const ids = (answer.instances ?? []).map((instance) => instance.id).sort();
        expect(ids).toEqual(await runningTaskIds(lookup[2] ?? ''));
      }
      if (/^npm run local:call\b/.test(command)) {
        // Each call names the task that answered: one the service runs now.
        const running = await runningTaskIds('api');
        const answered = [...stdout.matchAll(/^200 from task ([0-9a-f]{32}) /gm)].map((m) => m[1]);
        expect(answered.length).toBeGreaterThan(0);
        for (const task of answered) expect(running).toContain(task);
      }
      const dig = /^dig .*?\s([a-z0-9.-]+\.kudos\.local|kudos\.local)\b/.exec(command);
      if (dig) {
        // dig exits 0 for NXDOMAIN too: the status line says the zone answered, with the records ECS implies.
        expect(stdout).toMatch(/status: (NOERROR|NXDOMAIN)/);
        expect(stdout).toMatch(/flags: qr aa/);
      }
      if (reconciles) {
        expect(missing.length).toBe(3);
        const summary = JSON.parse(stdout.trim().split('\n').pop() ?? '');
        expect(summary).toMatchObject({ registered: 3 });
        const response = await fetch(`http://127.0.0.1:${functions.httpPort}/services/lost`);
        const answer = (await response.json()) as { instances: { id: string }[] };
        expect(answer.instances.map((instance) => instance.id).sort()).toEqual(missing);
      }
    },
    90_000,
  );

  it('every knob the README lists answers on the endpoint', async () => {
    const knobs = [...section(readme, 'Local stack').matchAll(/^\| `\/_local\/([a-z-]+)` \|/gm)].map((m) => m[1]);
    expect(knobs.length).toBeGreaterThan(0);
    for (const knob of knobs) {
      const response = await fetch(`${aws.emulator.url}/_local/${knob}`);
      expect([knob, response.status]).toEqual([knob, 200]);
    }
  });
});
