import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import {
  type ContainerDefinition,
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import type { BusEvent } from '../../local/emulator';
import { assertLoopback } from '../../local/loopback';
import { fargateTaskDefinition } from '../../local/task-definitions';
import { fargateService } from '../../support/ecs-setup';
import { type Harness, startHarness, stopHarness } from '../unit/emulator/emulator-harness';

// Live tasks: the built-in app follows the ECS task lifecycle. SIGTERM at STOPPING, then SIGKILL at the
// container's stopTimeout, 30 s by default on Fargate (Amazon ECS API Reference, ContainerDefinition
// stopTimeout: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html;
// StopTask: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_StopTask.html). A container that
// exits by itself reports 0; one killed by SIGKILL 137 (https://repost.aws/knowledge-center/ecs-task-stopped,
// "Common exit codes"). Task states: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html.

/** Simulated seconds take 10 ms: a task starts in ~130 ms, and a 20 s drain lasts 200 ms. */
const TIME_SCALE = 0.01;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: Record<string, unknown>;
}

/** One GET on a fresh connection, to a loopback address only. */
function get(address: string, port: number, path: string): Promise<Reply> {
  assertLoopback(address);
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port, path, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(body) });
        } catch (error) {
          reject(error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** What a call got: an answer, or the error code (ECONNREFUSED...). */
async function attempt(address: string, port: number, path: string): Promise<Reply | string> {
  try {
    return await get(address, port, path);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
}

/** A port the OS says is free, so the test's containerPort never collides with another test's. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let h: Harness;
let logs: string[];
/** What the event target saw: each task event, and, for some states, what a call to the task got at that moment. */
let seen: { arn: string; status: string; at: number; call?: Reply | string }[];
let waiters: { arn?: string; status: string; resolve: () => void }[];
/** Task addresses to call when their RUNNING, STOPPING or DEPROVISIONING event is delivered. */
let probes: Map<string, { address: string; port: number }>;

function eventOf(event: BusEvent): { arn: string; status: string } {
  const detail = event.detail as { taskArn: string; lastStatus: string };
  return { arn: detail.taskArn, status: detail.lastStatus };
}

/** Resolves when an event with `status` (for `arn`, if given) has been delivered. */
function delivered(status: string, arn?: string): Promise<void> {
  if (seen.some((entry) => entry.status === status && (!arn || entry.arn === arn))) return Promise.resolve();
  return new Promise((resolve) => waiters.push({ arn, status, resolve }));
}

beforeEach(async () => {
  logs = [];
  seen = [];
  waiters = [];
  probes = new Map();
  h = await startHarness({
    liveTasks: true,
    timeScale: TIME_SCALE,
    log: (line) => void logs.push(line),
    rules: [
      {
        name: 'live-task-events',
        pattern: { source: ['aws.ecs'], 'detail-type': ['ECS Task State Change'] },
        target: async (event) => {
          const { arn, status } = eventOf(event);
          const entry: (typeof seen)[number] = { arn, status, at: Date.now() };
          const probe = probes.get(arn) ?? probeOf(event);
          if (probe && ['RUNNING', 'STOPPING', 'DEPROVISIONING'].includes(status)) {
            entry.call = await attempt(probe.address, probe.port, `/at-${status.toLowerCase()}`);
          }
          seen.push(entry);
          for (const waiter of waiters.filter((w) => w.status === status && (!w.arn || w.arn === arn))) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve();
          }
        },
      },
    ],
  });
});
afterEach(() => stopHarness(h));

/** An awsvpc task's address and first port, read from the event itself, as a registrar would. */
function probeOf(event: BusEvent): { address: string; port: number } | undefined {
  const detail = event.detail as {
    attachments?: { details?: { name: string; value: string }[] }[];
    containers?: { networkBindings?: { hostPort: number }[] }[];
  };
  const address = detail.attachments?.[0]?.details?.find((d) => d.name === 'privateIPv4Address')?.value;
  const port = awsvpcPorts.get(eventOf(event).arn.split('/')[1] ?? '');
  return address && port ? { address, port } : undefined;
}

/** containerPort of the awsvpc app, by cluster name (each test registers its own). */
let awsvpcPorts: Map<string, number>;
beforeEach(() => {
  awsvpcPorts = new Map();
});

async function registerFargateApp(family: string, app: Partial<ContainerDefinition>): Promise<void> {
  await h.ecs.send(
    new RegisterTaskDefinitionCommand(fargateTaskDefinition(family, [{ name: 'app', image: 'nginx', ...app }])),
  );
}

async function describe1(cluster: string, arn: string): Promise<Task> {
  const out = await h.ecs.send(new DescribeTasksCommand({ cluster, tasks: [arn] }));
  const task = out.tasks?.[0];
  if (!task) throw new Error(`no task ${arn}`);
  return task;
}

const ipv4Of = (task: Task) =>
  task.attachments?.[0]?.details?.find((detail) => detail.name === 'privateIPv4Address')?.value ?? '';

/** Starts a one-task Fargate service `api` in cluster `kudos` and returns its RUNNING task. */
async function runningServiceTask(app: Partial<ContainerDefinition>, port: number): Promise<Task> {
  await h.ecs.send(new CreateClusterCommand({ clusterName: 'kudos' }));
  awsvpcPorts.set('kudos', port);
  await registerFargateApp('api', { portMappings: [{ containerPort: port }], ...app });
  await h.ecs.send(
    new CreateServiceCommand(
      fargateService({ cluster: 'kudos', serviceName: 'api', taskDefinition: 'api', desiredCount: 1 }),
    ),
  );
  await delivered('RUNNING');
  const arn = seen.find((entry) => entry.status === 'RUNNING')?.arn ?? '';
  return describe1('kudos', arn);
}

describe('live tasks in the local stack', () => {
  it('a Fargate service task answers on its own 127.10 address at its containerPort, naming itself, from the moment it is RUNNING', async () => {
    const port = await freePort();
    const task = await runningServiceTask({}, port);
    const address = ipv4Of(task);
    expect(task.lastStatus).toBe('RUNNING');
    expect(address).toMatch(/^127\.\d+\.\d+\.\d+$/);
    expect(task.containers?.[0]?.networkInterfaces?.[0]?.privateIpv4Address).toBe(address);
    // A registrar that registers at RUNNING must never point at a closed port: the call made when the
    // RUNNING event was delivered already got an answer.
    const atRunning = seen.find((entry) => entry.status === 'RUNNING')?.call;
    expect(atRunning).toMatchObject({ status: 200, json: { path: '/at-running', draining: false } });
    const reply = await get(address, port, '/x');
    expect(reply.status).toBe(200);
    expect(reply.headers['x-task-arn']).toBe(task.taskArn);
    expect(reply.json).toEqual({
      taskArn: task.taskArn,
      taskId: task.taskArn?.split('/').pop(),
      cluster: 'kudos',
      service: 'api',
      taskDefinition: 'api:1',
      container: 'app',
      address,
      port,
      path: '/x',
      draining: false,
    });
    expect((await get(address, port, '/health')).json).toEqual({ status: 'ok' });
    expect(h.emulator.liveEndpoints()).toEqual([
      { taskArn: task.taskArn, container: 'app', address, port, draining: false },
    ]);
  });

  it('after StopTask the app keeps serving, draining, for LOCAL_APP_DRAIN_SECONDS, then refuses connections; the task goes STOPPED after it closed, exit code 0', async () => {
    const port = await freePort();
    const task = await runningServiceTask(
      { environment: [{ name: 'LOCAL_APP_DRAIN_SECONDS', value: '20' }], stopTimeout: 60 },
      port,
    );
    const arn = task.taskArn ?? '';
    await h.ecs.send(new StopTaskCommand({ cluster: 'kudos', task: arn }));
    await delivered('STOPPING', arn);
    const stopping = seen.find((entry) => entry.arn === arn && entry.status === 'STOPPING');
    expect(stopping?.call).toMatchObject({
      status: 200,
      headers: { connection: 'close' },
      json: { taskArn: arn, draining: true },
    });
    expect((await get(ipv4Of(task), port, '/health')).status).toBe(503);
    await delivered('STOPPED', arn);
    const deprovisioning = seen.find((entry) => entry.arn === arn && entry.status === 'DEPROVISIONING');
    // The app had closed before the task left STOPPING, and it served for its drain (20 s -> 200 ms).
    expect(deprovisioning?.call).toBe('ECONNREFUSED');
    expect((deprovisioning?.at ?? 0) - (stopping?.at ?? 0)).toBeGreaterThanOrEqual(150);
    expect(await attempt(ipv4Of(task), port, '/x')).toBe('ECONNREFUSED');
    const stopped = await describe1('kudos', arn);
    expect(stopped.lastStatus).toBe('STOPPED');
    expect(stopped.containers?.[0]?.exitCode).toBe(0);
    expect(h.emulator.liveEndpoints().filter((endpoint) => endpoint.taskArn === arn)).toEqual([]);
  });

  it('an app with no drain time serves until stopTimeout and is killed there: exit code 137', async () => {
    const port = await freePort();
    const task = await runningServiceTask({ stopTimeout: 10 }, port);
    const arn = task.taskArn ?? '';
    await h.ecs.send(new StopTaskCommand({ cluster: 'kudos', task: arn }));
    await delivered('STOPPED', arn);
    const stopping = seen.find((entry) => entry.arn === arn && entry.status === 'STOPPING');
    const deprovisioning = seen.find((entry) => entry.arn === arn && entry.status === 'DEPROVISIONING');
    expect(stopping?.call).toMatchObject({ status: 200, json: { draining: true } });
    expect(deprovisioning?.call).toBe('ECONNREFUSED');
    expect((deprovisioning?.at ?? 0) - (stopping?.at ?? 0)).toBeGreaterThanOrEqual(70);
    expect((await describe1('kudos', arn)).containers?.[0]?.exitCode).toBe(137);
  });

  it('an app with a drain of 0 exits at SIGTERM: it refuses connections as soon as the task is STOPPING', async () => {
    const port = await freePort();
    const task = await runningServiceTask({ environment: [{ name: 'LOCAL_APP_DRAIN_SECONDS', value: '0' }] }, port);
    const arn = task.taskArn ?? '';
    await h.ecs.send(new StopTaskCommand({ cluster: 'kudos', task: arn }));
    await delivered('STOPPED', arn);
    expect(seen.find((entry) => entry.arn === arn && entry.status === 'STOPPING')?.call).toBe('ECONNREFUSED');
    expect((await describe1('kudos', arn)).containers?.[0]?.exitCode).toBe(0);
  });

  it('a bridge task on a container instance answers at the instance’s 127.10 address and the host port ECS assigned', async () => {
    await h.ecs.send(new CreateClusterCommand({ clusterName: 'ec2' }));
    const [instance] = h.emulator.addContainerInstances({ cluster: 'ec2', count: 1 });
    await h.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'legacy',
        networkMode: 'bridge',
        requiresCompatibilities: ['EC2'],
        containerDefinitions: [
          { name: 'web', image: 'nginx', memory: 128, portMappings: [{ containerPort: 80, hostPort: 0 }] },
        ],
      }),
    );
    const run = await h.ecs.send(new RunTaskCommand({ cluster: 'ec2', taskDefinition: 'legacy', launchType: 'EC2' }));
    const arn = run.tasks?.[0]?.taskArn ?? '';
    await delivered('RUNNING', arn);
    const task = await describe1('ec2', arn);
    const hostPort = task.containers?.[0]?.networkBindings?.[0]?.hostPort ?? 0;
    const address = instance?.privateIpAddress ?? '';
    expect(address).toMatch(/^127\.\d+\.\d+\.\d+$/);
    expect(hostPort).toBeGreaterThanOrEqual(32768);
    const reply = await get(address, hostPort, '/legacy');
    expect(reply.json).toMatchObject({
      taskArn: arn,
      cluster: 'ec2',
      service: null,
      taskDefinition: 'legacy:1',
      container: 'web',
      address,
      port: hostPort,
      path: '/legacy',
    });
  });

  describe('when the app cannot listen', () => {
    let squatter: Server | undefined;
    afterEach(async () => {
      await new Promise<void>((resolve) => (squatter ? squatter.close(() => resolve()) : resolve()));
      squatter = undefined;
    });

    it('logs the listen error, and the task stops: its essential container exited (code 1, with the error as its reason)', async () => {
      await h.ecs.send(new CreateClusterCommand({ clusterName: 'ec2' }));
      const [instance] = h.emulator.addContainerInstances({ cluster: 'ec2', count: 1 });
      const address = instance?.privateIpAddress ?? '';
      assertLoopback(address);
      // Another process already holds the port on the instance's address.
      const server = createServer();
      squatter = server;
      await new Promise<void>((resolve) => server.listen(0, address, () => resolve()));
      const taken = (server.address() as { port: number }).port;
      await h.ecs.send(
        new RegisterTaskDefinitionCommand({
          family: 'clash',
          networkMode: 'bridge',
          requiresCompatibilities: ['EC2'],
          containerDefinitions: [
            { name: 'web', image: 'nginx', memory: 128, portMappings: [{ containerPort: 80, hostPort: taken }] },
          ],
        }),
      );
      const run = await h.ecs.send(new RunTaskCommand({ cluster: 'ec2', taskDefinition: 'clash', launchType: 'EC2' }));
      const arn = run.tasks?.[0]?.taskArn ?? '';
      await delivered('STOPPED', arn);
      const task = await describe1('ec2', arn);
      expect(seen.filter((entry) => entry.arn === arn).map((entry) => entry.status)).not.toContain('RUNNING');
      expect(task).toMatchObject({
        stopCode: 'EssentialContainerExited',
        stoppedReason: 'Essential container in task exited',
      });
      expect(task.containers?.[0]?.exitCode).toBe(1);
      expect(task.containers?.[0]?.reason).toContain('EADDRINUSE');
      expect(logs.some((line) => line.includes(arn.split('/').pop() ?? '?') && line.includes('EADDRINUSE'))).toBe(true);
    });
  });

  it('an IPv6-only task runs with no app, and the log says so', async () => {
    await h.ecs.send(new CreateClusterCommand({ clusterName: 'v6' }));
    await registerFargateApp('v6', { portMappings: [{ containerPort: 8080 }] });
    const run = await h.ecs.send(
      new RunTaskCommand({
        cluster: 'v6',
        taskDefinition: 'v6',
        launchType: 'FARGATE',
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-ipv6only-a'] } },
      }),
    );
    const arn = run.tasks?.[0]?.taskArn ?? '';
    await delivered('RUNNING', arn);
    expect(h.emulator.liveEndpoints()).toEqual([]);
    expect(logs).toContainEqual(expect.stringMatching(/IPv6-only, so no app listens/));
  });

  it('a task stopped before it is RUNNING never listens', async () => {
    await h.ecs.send(new CreateClusterCommand({ clusterName: 'kudos' }));
    await registerFargateApp('api', { portMappings: [{ containerPort: await freePort() }] });
    const run = await h.ecs.send(
      new RunTaskCommand({
        cluster: 'kudos',
        taskDefinition: 'api',
        launchType: 'FARGATE',
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-local'] } },
      }),
    );
    const arn = run.tasks?.[0]?.taskArn ?? '';
    await h.ecs.send(new StopTaskCommand({ cluster: 'kudos', task: arn }));
    await delivered('STOPPED', arn);
    expect(seen.filter((entry) => entry.arn === arn).map((entry) => entry.status)).not.toContain('RUNNING');
    expect(h.emulator.liveEndpoints()).toEqual([]);
  });

  it('closing the emulator closes every app', async () => {
    const port = await freePort();
    const task = await runningServiceTask({}, port);
    await h.emulator.close();
    expect(await attempt(ipv4Of(task), port, '/x')).toBe('ECONNREFUSED');
  });
});
