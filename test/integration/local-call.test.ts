import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import {
  CreatePrivateDnsNamespaceCommand,
  CreateServiceCommand,
  ListNamespacesCommand,
  RegisterInstanceCommand,
  ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery';
import { localCall } from '../../local/call';
import { createEmulator, type Emulator } from '../../local/emulator';
import { fargateTaskDefinition } from '../../local/task-definitions';
import { captureIo } from '../helpers/cli-io';

/**
 * `npm run local:call` against the local stack's own DNS server and live tasks: two Fargate tasks whose
 * built-in apps listen on their loopback addresses, registered by hand in a Cloud Map service with A records
 * (no registrar here, so the test also controls when an address goes stale).
 */
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
let emulator: Emulator;
let ecs: ECSClient;
let cloudMap: ServiceDiscoveryClient;
const taskIds: string[] = [];
const taskArns: string[] = [];

async function run(args: string[]) {
  const { io, captured } = captureIo({});
  const code = await localCall([...args, '--dns-port', String(emulator.dnsPort)], io);
  return { code, out: captured.out, err: captured.err };
}

beforeAll(async () => {
  emulator = await createEmulator({ port: 0, timeScale: 0.002, liveTasks: true, dnsPort: 0 });
  ecs = new ECSClient({ endpoint: emulator.url, region: 'us-east-1', credentials });
  cloudMap = new ServiceDiscoveryClient({ endpoint: emulator.url, region: 'us-east-1', credentials });
  await ecs.send(new CreateClusterCommand({ clusterName: 'kudos' }));
  await ecs.send(
    new RegisterTaskDefinitionCommand(
      fargateTaskDefinition('api', [
        { name: 'app', image: 'app', essential: true, portMappings: [{ containerPort: 8080, protocol: 'tcp' }] },
      ]),
    ),
  );
  const { tasks = [] } = await ecs.send(
    new RunTaskCommand({
      cluster: 'kudos',
      taskDefinition: 'api',
      count: 2,
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-local'] } },
    }),
  );
  await cloudMap.send(new CreatePrivateDnsNamespaceCommand({ Name: 'kudos.local', Vpc: 'vpc-local' }));
  await emulator.idle();
  const described = await ecs.send(
    new DescribeTasksCommand({ cluster: 'kudos', tasks: tasks.map((task) => task.taskArn ?? '') }),
  );
  const namespaceId = (await cloudMap.send(new ListNamespacesCommand({}))).Namespaces?.[0]?.Id;
  const { Service } = await cloudMap.send(
    new CreateServiceCommand({
      Name: 'api',
      NamespaceId: namespaceId,
      DnsConfig: { RoutingPolicy: 'MULTIVALUE', DnsRecords: [{ Type: 'A', TTL: 10 }] },
    }),
  );
  for (const task of described.tasks ?? []) {
    const address = task.attachments?.[0]?.details?.find((d) => d.name === 'privateIPv4Address')?.value;
    taskIds.push(task.taskArn?.split('/').pop() ?? '');
    taskArns.push(task.taskArn ?? '');
    await cloudMap.send(
      new RegisterInstanceCommand({
        ServiceId: Service?.Id,
        InstanceId: task.taskArn?.split('/').pop(),
        Attributes: { AWS_INSTANCE_IPV4: address ?? '', AWS_INSTANCE_PORT: '8080' },
      }),
    );
  }
  await emulator.idle();
});

afterAll(async () => {
  await emulator.close();
  ecs.destroy();
  cloudMap.destroy();
});

describe('npm run local:call against the local DNS and live tasks', () => {
  it('resolves the name, calls a task on its loopback address and prints which task answered', async () => {
    const { code, out, err } = await run(['http://api.kudos.local:8080/some-request', '--count', '8']);
    expect(err).toBe('');
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(9);
    for (const line of lines.slice(0, 8)) {
      expect(line).toMatch(
        /^200 from task ([0-9a-f]+) \(task definition api:1\) at 127\.\d+\.\d+\.\d+:8080, [0-9.]+ ms$/,
      );
      expect(taskIds).toContain(/from task ([0-9a-f]+)/.exec(line)?.[1]);
    }
    expect(lines[8]).toMatch(/^8 calls, 8 answered below 500, by [12] task\(s\)/);
  });

  it('names an unknown name and the DNS port in one line, exit 1', async () => {
    const { code, out, err } = await run(['http://nope.kudos.local:8080/']);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toBe(
      `local:call: nope.kudos.local: no such name (NXDOMAIN) in the local DNS on 127.0.0.1:${emulator.dnsPort}\n`,
    );
  });

  it('reports a refused connection when the name still points at tasks that have stopped', async () => {
    for (const task of taskArns) await ecs.send(new StopTaskCommand({ cluster: 'kudos', task }));
    await emulator.idle();
    const { code, err } = await run(['http://api.kudos.local:8080/x']);
    expect(code).toBe(1);
    expect(err).toMatch(/^connection refused at 127\.\d+\.\d+\.\d+:8080 after [0-9.]+ ms\n$/);
  });
});
