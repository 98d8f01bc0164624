import {
  CreateClusterCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import type { BusEvent } from '../../../local/emulator';
import { fargateTaskDefinition } from '../../../local/task-definitions';
import { type Harness, rejectionOf, startHarness, stopHarness } from './emulator-harness';

let h: Harness;
let events: BusEvent[];

beforeEach(async () => {
  events = [];
  h = await startHarness({
    rules: [{ name: 'all-tasks', pattern: { source: ['aws.ecs'] }, target: async (event) => void events.push(event) }],
  });
  await h.ecs.send(new CreateClusterCommand({ clusterName: 'kudos' }));
  await h.ecs.send(
    new RegisterTaskDefinitionCommand(
      fargateTaskDefinition('api', [
        {
          name: 'app',
          image: 'nginx',
          portMappings: [
            { containerPort: 8080, name: 'http', appProtocol: 'http' },
            { containerPort: 9090, name: 'metrics', protocol: 'tcp' },
          ],
        },
      ]),
    ),
  );
});
afterEach(() => stopHarness(h));

async function runIn(subnet: string): Promise<Task | undefined> {
  const run = await h.ecs.send(
    new RunTaskCommand({
      cluster: 'kudos',
      taskDefinition: 'api',
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: [subnet] } },
    }),
  );
  await h.emulator.idle();
  return (await h.ecs.send(new DescribeTasksCommand({ cluster: 'kudos', tasks: [run.tasks?.[0]?.taskArn ?? ''] })))
    .tasks?.[0];
}

const detailsOf = (task: Task | undefined) =>
  Object.fromEntries((task?.attachments?.[0]?.details ?? []).map((detail) => [detail.name, detail.value]));

describe('IPv6 task networking (Amazon ECS API Reference, NetworkInterface and Attachment details)', () => {
  it('a task in a dual-stack subnet (id containing "dualstack") gets an IPv6 address beside its IPv4, in the ENI details and the containers’ network interfaces', async () => {
    const task = await runIn('subnet-dualstack-a');
    const details = detailsOf(task);
    expect(Object.keys(details)).toEqual([
      'subnetId',
      'networkInterfaceId',
      'macAddress',
      'privateDnsName',
      'privateIPv4Address',
      'ipv6Address',
    ]);
    expect(details.privateIPv4Address).toMatch(/^127\.\d+\.\d+\.\d+$/);
    expect(details.ipv6Address).toMatch(/^fd00:ec2:0:[0-9a-f]+::[0-9a-f]+$/);
    expect(task?.containers?.[0]?.networkInterfaces?.[0]).toEqual({
      attachmentId: task?.attachments?.[0]?.id,
      privateIpv4Address: details.privateIPv4Address,
      ipv6Address: details.ipv6Address,
    });
    const running = events.find((event) => event.detail.lastStatus === 'RUNNING');
    const attachments = (running?.detail.attachments ?? []) as { details: { name: string; value: string }[] }[];
    expect(attachments[0]?.details).toContainEqual({ name: 'ipv6Address', value: details.ipv6Address });
  });

  it('a task in an IPv6-only subnet (id containing "ipv6only") has an IPv6 address and no IPv4 one', async () => {
    const task = await runIn('subnet-ipv6only-a');
    const details = detailsOf(task);
    expect(Object.keys(details)).toEqual(['subnetId', 'networkInterfaceId', 'macAddress', 'ipv6Address']);
    expect(task?.containers?.[0]?.networkInterfaces?.[0]).toEqual({
      attachmentId: task?.attachments?.[0]?.id,
      ipv6Address: details.ipv6Address,
    });
  });

  it('the IPv6-only RUNNING event has the ENI details and container interfaces of the written fixture fargate-running-ipv6-only-service.json', async () => {
    await runIn('subnet-ipv6only-a');
    const running = events.find((event) => event.detail.lastStatus === 'RUNNING');
    const fixture = require('../../fixtures/written/fargate-running-ipv6-only-service.json');
    const names = (attachments: { type: string; details: { name: string }[] }[]) =>
      attachments.find((attachment) => attachment.type === 'eni')?.details.map((detail) => detail.name);
    expect(names(running?.detail.attachments as never)).toEqual(names(fixture.detail.attachments));
    const keys = (containers: { networkInterfaces: object[] }[]) =>
      Object.keys(containers[0]?.networkInterfaces[0] ?? {});
    expect(keys(running?.detail.containers as never)).toEqual(keys(fixture.detail.containers));
  });

  it('tasks in one dual-stack subnet get distinct IPv6 addresses; IPv4-only subnets give none', async () => {
    const first = detailsOf(await runIn('subnet-dualstack-a'));
    const second = detailsOf(await runIn('subnet-dualstack-a'));
    expect(first.ipv6Address).not.toBe(second.ipv6Address);
    expect(detailsOf(await runIn('subnet-local')).ipv6Address).toBeUndefined();
  });
});

describe('multi-port task definitions (Amazon ECS API Reference, PortMapping name)', () => {
  it('named port mappings are stored and returned by DescribeTaskDefinition', async () => {
    const { taskDefinition } = await h.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'api' }));
    expect(taskDefinition?.containerDefinitions?.[0]?.portMappings).toEqual([
      { containerPort: 8080, hostPort: 8080, protocol: 'tcp', name: 'http', appProtocol: 'http' },
      { containerPort: 9090, hostPort: 9090, protocol: 'tcp', name: 'metrics' },
    ]);
  });

  it('awsvpc and host task definitions whose hostPort differs from containerPort are ClientException (PortMapping hostPort)', async () => {
    for (const networkMode of ['awsvpc', 'host'] as const) {
      const error = await rejectionOf(
        h.ecs.send(
          new RegisterTaskDefinitionCommand({
            family: `bad-${networkMode}`,
            networkMode,
            containerDefinitions: [
              { name: 'app', image: 'nginx', portMappings: [{ containerPort: 80, hostPort: 81 }] },
            ],
          }),
        ),
      );
      expect(error.name).toBe('ClientException');
    }
  });
});
