import type { PlanSettings, TaskFacts } from '../../../lib/plan';
import type { DescribedTask, TaskDefinitionFacts } from '../../../lib/ports';
import { handleTaskEvent, type RegistrarDeps } from '../../../lib/registrar';
import { parseTaskEvent, type TaskStateChange } from '../../../lib/task-event';
import { MemoryRegistry, MemoryTaskSource, MemoryVersionStore } from '../../../support/memory-adapters';
import { loadEvent, withDetail } from '../../helpers/fixtures';
import { planPrinted } from '../../helpers/printed-plan';

const settings: PlanSettings = {
  namespace: 'kudos.local',
  defaultPort: 80,
  dnsRecords: 'A',
  ownerId: 'ecs-cloudmap-registrar',
};
const running = (tags: Record<string, string> = {}): DescribedTask => ({
  taskArn: 'x',
  lastStatus: 'RUNNING',
  desiredStatus: 'RUNNING',
  tags,
});

function parse(raw: unknown): TaskStateChange {
  const parsed = parseTaskEvent(raw);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.event;
}

const definition = (
  networkMode: TaskDefinitionFacts['networkMode'],
  portMappings: TaskDefinitionFacts['containers'][number]['portMappings'],
): TaskDefinitionFacts => ({
  arn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:3',
  family: 'web',
  networkMode,
  containers: [{ name: 'web', essential: true, portMappings, hasHealthCheck: false }],
});

const bridgeEvent = () => parse(loadEvent('written/ec2-bridge-running-service.json'));
const serviceEvent = () => parse(loadEvent('07-fargate-running-multicontainer-service-connect-sdi.json'));

describe('bridge and host network modes (EC2)', () => {
  it('registers the container instance address and the dynamic host port, with SRV records', () => {
    const facts: TaskFacts = {
      described: running(),
      taskDefinition: definition('bridge', [{ containerPort: 80, hostPort: 0 }]),
      containerInstance: { ipv4: '10.0.5.20' },
    };
    expect(planPrinted(bridgeEvent(), facts, settings)).toMatchObject({
      action: 'register',
      service: 'web',
      dnsRecords: 'SRV',
      attributes: { AWS_INSTANCE_IPV4: '10.0.5.20', AWS_INSTANCE_PORT: '32768', ECS_LAUNCH_TYPE: 'EC2' },
      notes: [
        "bridge network mode: the address is the container instance's",
        'host port 32768 is bound to container port 80',
      ],
    });
  });

  it('plans the host port from the event alone and says the address comes from the container instance', () => {
    const plan = planPrinted(bridgeEvent(), {}, settings);
    expect(plan).toMatchObject({ action: 'register', dnsRecords: 'SRV', attributes: { AWS_INSTANCE_PORT: '32768' } });
    if (plan.action !== 'register') throw new Error('expected a registration');
    expect(plan.attributes.AWS_INSTANCE_IPV4).toBeUndefined();
    expect(plan.notes?.join(' ')).toMatch(/container instance's private IP/);
  });

  it('registers the container port itself in host mode', () => {
    const event = parse(
      withDetail(loadEvent('written/ec2-bridge-running-service.json'), {
        containers: [
          {
            name: 'web',
            lastStatus: 'RUNNING',
            networkBindings: [{ bindIP: '0.0.0.0', containerPort: 8080, hostPort: 8080, protocol: 'tcp' }],
          },
        ],
      }),
    );
    const facts: TaskFacts = {
      described: running(),
      taskDefinition: definition('host', [{ containerPort: 8080, hostPort: 8080 }]),
      containerInstance: { ipv4: '10.0.5.21' },
    };
    expect(planPrinted(event, facts, settings)).toMatchObject({
      dnsRecords: 'SRV',
      attributes: { AWS_INSTANCE_IPV4: '10.0.5.21', AWS_INSTANCE_PORT: '8080' },
    });
  });

  it('refuses a bridge task whose port has no network binding', () => {
    const facts: TaskFacts = {
      described: running(),
      taskDefinition: definition('bridge', [{ containerPort: 9999 }]),
      containerInstance: { ipv4: '10.0.5.20' },
    };
    expect(planPrinted(bridgeEvent(), facts, settings)).toMatchObject({
      action: 'ignore',
      reason: 'address-unavailable',
    });
  });
});

describe('IPv6', () => {
  const ipv6Only = () => {
    const raw = loadEvent('written/fargate-running-dual-stack-service.json') as {
      detail: {
        attachments: { details: { name: string }[] }[];
        containers: { networkInterfaces: Record<string, unknown>[] }[];
      };
    };
    for (const a of raw.detail.attachments) a.details = a.details.filter((d) => d.name !== 'privateIPv4Address');
    for (const c of raw.detail.containers) for (const n of c.networkInterfaces) delete n.privateIpv4Address;
    return parse(raw);
  };

  it('registers an IPv6-only task with its IPv6 address alone', () => {
    const plan = planPrinted(ipv6Only(), { described: running() }, { ...settings, dnsRecords: 'AAAA' });
    expect(plan).toMatchObject({
      action: 'register',
      dnsRecords: 'AAAA',
      attributes: { AWS_INSTANCE_IPV6: '2600:1f18:4a3:6902:8e1f:c1a4:5c3d:9b10' },
    });
    expect((plan as { attributes: Record<string, string> }).attributes.AWS_INSTANCE_IPV4).toBeUndefined();
  });

  function deps(dnsRecords: PlanSettings['dnsRecords']) {
    const registry = new MemoryRegistry();
    const tasks = new MemoryTaskSource();
    tasks.describeTask = async () => running();
    tasks.definitions.set('arn:aws:ecs:eu-west-2:332499610595:task-definition/cdp-demo-test-15:1', {
      arn: 'td',
      family: 'cdp-demo-test-15',
      networkMode: 'awsvpc',
      containers: [{ name: 'app', essential: true, portMappings: [{ containerPort: 8085 }], hasHealthCheck: false }],
    });
    const d: RegistrarDeps = {
      registry,
      tasks,
      versions: new MemoryVersionStore(),
      settings: { ...settings, dnsRecords, dnsTtl: 10 },
    };
    return { registry, deps: d };
  }

  it('registers an IPv6-only task in a service with AAAA records', async () => {
    const { registry, deps: d } = deps('AAAA');
    await expect(handleTaskEvent(ipv6Only(), d)).resolves.toMatchObject({ result: 'registered' });
    expect(registry.services.get('cdp-demo-test-15')?.spec.dnsRecords).toBe('AAAA');
  });

  it('explains instead of failing when the configured A records need an IPv4 the task lacks', async () => {
    const { registry, deps: d } = deps('A');
    const outcome = await handleTaskEvent(ipv6Only(), d);
    expect(outcome).toMatchObject({ result: 'skipped', reason: 'address-unavailable' });
    expect((outcome as { message: string }).message).toMatch(
      /A records need AWS_INSTANCE_IPV4 \(IPv6-only tasks need DNS_RECORDS=AAAA\)/,
    );
    expect(registry.writes).toEqual([]);
  });
});

describe('tasks exposing several ports', () => {
  it('registers one Cloud Map service per discovery:port:NAME tag beside the primary one', () => {
    const facts: TaskFacts = {
      described: running({ 'discovery:port:admin': '9090', 'discovery:port:metrics': '9100' }),
    };
    const plan = planPrinted(serviceEvent(), facts, settings);
    expect(plan).toMatchObject({
      action: 'register',
      service: 'cdp-demo-test-15',
      attributes: { AWS_INSTANCE_PORT: '80' },
    });
    if (plan.action !== 'register') throw new Error('expected a registration');
    expect(
      plan.registrations?.map((r) => [r.service, r.attributes.AWS_INSTANCE_PORT, r.attributes.ECS_PORT_NAME]),
    ).toEqual([
      ['cdp-demo-test-15', '80', undefined],
      ['cdp-demo-test-15-admin', '9090', 'admin'],
      ['cdp-demo-test-15-metrics', '9100', 'metrics'],
    ]);
  });

  it('uses the named port mappings of the task definition when there are two or more', () => {
    const facts: TaskFacts = {
      described: running(),
      taskDefinition: definition('awsvpc', [
        { containerPort: 8080, name: 'http' },
        { containerPort: 9901, name: 'admin' },
      ]),
    };
    const plan = planPrinted(serviceEvent(), facts, settings);
    if (plan.action !== 'register') throw new Error('expected a registration');
    expect(plan.registrations?.map((r) => `${r.service}:${r.attributes.AWS_INSTANCE_PORT}`)).toEqual([
      'cdp-demo-test-15:8080',
      'cdp-demo-test-15-http:8080',
      'cdp-demo-test-15-admin:9901',
    ]);
  });

  it('keeps a single named port as the primary port only', () => {
    const facts: TaskFacts = {
      described: running(),
      taskDefinition: definition('awsvpc', [{ containerPort: 8080, name: 'http' }]),
    };
    const plan = planPrinted(serviceEvent(), facts, settings);
    expect(plan).toMatchObject({ action: 'register', attributes: { AWS_INSTANCE_PORT: '8080' } });
    expect((plan as { registrations?: unknown }).registrations).toBeUndefined();
  });

  it('maps each named port of a bridge task to its own host port', () => {
    const event = parse(
      withDetail(loadEvent('written/ec2-bridge-running-service.json'), {
        containers: [
          {
            name: 'web',
            lastStatus: 'RUNNING',
            networkBindings: [
              { bindIP: '0.0.0.0', containerPort: 80, hostPort: 32768, protocol: 'tcp' },
              { bindIP: '0.0.0.0', containerPort: 9090, hostPort: 32769, protocol: 'tcp' },
            ],
          },
        ],
      }),
    );
    const facts: TaskFacts = {
      described: running({ 'discovery:port:admin': '9090' }),
      taskDefinition: definition('bridge', [{ containerPort: 80 }, { containerPort: 9090 }]),
      containerInstance: { ipv4: '10.0.5.20' },
    };
    const plan = planPrinted(event, facts, settings);
    if (plan.action !== 'register') throw new Error('expected a registration');
    expect(plan.registrations?.map((r) => `${r.service}:${r.attributes.AWS_INSTANCE_PORT}`)).toEqual([
      'web:32768',
      'web-admin:32769',
    ]);
  });

  it('deregisters the task from every one of its services', async () => {
    const registry = new MemoryRegistry();
    const tasks = new MemoryTaskSource();
    tasks.describeTask = async () => running({ 'discovery:port:admin': '9090' });
    tasks.definitions.set('arn:aws:ecs:eu-west-2:332499610595:task-definition/cdp-demo-test-15:1', {
      arn: 'td',
      family: 'cdp-demo-test-15',
      networkMode: 'awsvpc',
      containers: [{ name: 'app', essential: true, portMappings: [{ containerPort: 8085 }], hasHealthCheck: false }],
    });
    const d: RegistrarDeps = {
      registry,
      tasks,
      versions: new MemoryVersionStore(),
      settings: { ...settings, dnsTtl: 10 },
    };
    await handleTaskEvent(serviceEvent(), d);
    const stopping = withDetail(loadEvent('07-fargate-running-multicontainer-service-connect-sdi.json'), {
      lastStatus: 'STOPPING',
      desiredStatus: 'STOPPED',
      version: 7,
    });
    await expect(handleTaskEvent(stopping, d)).resolves.toMatchObject({
      result: 'deregistered',
      service: 'cdp-demo-test-15,cdp-demo-test-15-admin',
    });
    expect(registry.writes.sort()).toEqual([
      'deregister cdp-demo-test-15-admin/f8bec92bed774ee4b27711702a862de5',
      'deregister cdp-demo-test-15/f8bec92bed774ee4b27711702a862de5',
      'register cdp-demo-test-15-admin/f8bec92bed774ee4b27711702a862de5',
      'register cdp-demo-test-15/f8bec92bed774ee4b27711702a862de5',
    ]);
  });
});

describe('several clusters', () => {
  it('puts each cluster in its configured namespace', () => {
    const plan = planPrinted(
      serviceEvent(),
      { described: running() },
      { ...settings, clusterNamespaces: { 'dev-ecs-public': 'dev.local' } },
    );
    expect(plan).toMatchObject({ action: 'register', namespace: 'dev.local' });
    const other = planPrinted(
      serviceEvent(),
      { described: running() },
      { ...settings, clusterNamespaces: { prod: 'prod.local' } },
    );
    expect(other).toMatchObject({ namespace: 'kudos.local' });
  });
});
