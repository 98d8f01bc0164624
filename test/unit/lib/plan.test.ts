import fc from 'fast-check';
import type { PrintedPlan } from '../../../cli/plan-command';
import { attributesLength, isCustomAttribute } from '../../../lib/cloud-map/limits';
import { ATTR, type PlanSettings, planTaskEvent, type TaskFacts } from '../../../lib/plan';
import type { DescribedTask, TaskDefinitionFacts } from '../../../lib/ports';
import { parseTaskEvent, type TaskStateChange } from '../../../lib/task-event';
import { loadEvent, realEventNames, withDetail } from '../../helpers/fixtures';
import { planPrinted } from '../../helpers/printed-plan';

const settings: PlanSettings = {
  namespace: 'kudos.local',
  defaultPort: 80,
  dnsRecords: 'A',
  ownerId: 'ecs-cloudmap-registrar',
};

function parse(raw: unknown): TaskStateChange {
  const parsed = parseTaskEvent(raw);
  if (!parsed.ok) throw new Error(`fixture did not parse: ${parsed.message}`);
  return parsed.event;
}

function running(tags: Record<string, string> = {}, overrides: Partial<DescribedTask> = {}): DescribedTask {
  return { taskArn: 'x', lastStatus: 'RUNNING', desiredStatus: 'RUNNING', tags, ...overrides };
}

const taskDefinition = (
  containers: TaskDefinitionFacts['containers'],
  networkMode: TaskDefinitionFacts['networkMode'] = 'awsvpc',
): TaskDefinitionFacts => ({
  arn: 'arn:aws:ecs:eu-west-2:332499610595:task-definition/cdp-demo-test-15:1',
  family: 'cdp-demo-test-15',
  networkMode,
  containers,
});

const serviceRunning = () => parse(loadEvent('07-fargate-running-multicontainer-service-connect-sdi.json'));

describe('planTaskEvent over the real ECS events', () => {
  const expectations: Record<string, Partial<PrintedPlan> | { rejected: string }> = {
    '01-fargate-awsvpc-running-standalone-docs.json': { action: 'ignore', reason: 'standalone-task-without-name' },
    '02-fargate-stopped-essential-exit255-standalone.json': {
      action: 'ignore',
      reason: 'standalone-task-without-name',
    },
    '04-fargate-deprovisioning-essential-exited-standalone.json': {
      action: 'ignore',
      reason: 'standalone-task-without-name',
    },
    '05-fargate-stopped-elb-healthcheck-service.json': {
      action: 'deregister',
      service: 'sin-web_service-dev',
    },
    '07-fargate-running-multicontainer-service-connect-sdi.json': {
      action: 'register',
      service: 'cdp-demo-test-15',
      instanceId: 'f8bec92bed774ee4b27711702a862de5',
    },
    '12-ec2-awsvpc-running-multicontainer-docs.json': { action: 'ignore', reason: 'standalone-task-without-name' },
    '30-deployment-state-change-failed-docs.json': { rejected: 'not-a-task-state-change' },
    '32-service-action-steady-state-docs.json': { rejected: 'not-a-task-state-change' },
  };

  it('has an expectation for every real fixture', () => {
    expect(realEventNames().sort()).toEqual(Object.keys(expectations).sort());
  });

  it.each(Object.entries(expectations))('plans %s from the event alone', (name, expected) => {
    const raw = loadEvent(name);
    const parsed = parseTaskEvent(raw);
    if ('rejected' in expected) {
      expect(parsed).toMatchObject({ ok: false, reason: expected.rejected });
      return;
    }
    if (!parsed.ok) throw new Error(parsed.message);
    const plan = planPrinted(parsed.event, {}, settings);
    expect(plan).toMatchObject(expected);
  });
});

describe('registering a running service task', () => {
  it('registers the ENI address, the default port and the ECS attributes', () => {
    const plan = planPrinted(serviceRunning(), {}, settings);
    expect(plan).toEqual({
      action: 'register',
      namespace: 'kudos.local',
      service: 'cdp-demo-test-15',
      instanceId: 'f8bec92bed774ee4b27711702a862de5',
      version: 5,
      dnsRecords: 'A',
      attributes: {
        AWS_INSTANCE_IPV4: '10.249.47.254',
        AWS_INSTANCE_PORT: '80',
        AVAILABILITY_ZONE: 'eu-west-2a',
        REGION: 'eu-west-2',
        ECS_CLUSTER_NAME: 'dev-ecs-public',
        ECS_SERVICE_NAME: 'cdp-demo-test-15',
        ECS_TASK_DEFINITION_FAMILY: 'cdp-demo-test-15',
        ECS_TASK_DEFINITION_REVISION: '1',
        ECS_DEPLOYMENT_ID: 'ecs-svc/7617799119934277582',
        ECS_TASK_ARN: 'arn:aws:ecs:eu-west-2:332499610595:task/dev-ecs-public/f8bec92bed774ee4b27711702a862de5',
        ECS_LAUNCH_TYPE: 'FARGATE',
        ECS_TASK_VERSION: '5',
        REGISTRAR_OWNER: 'ecs-cloudmap-registrar',
        REGISTRAR_REGISTERED_AT: '2023-11-24T11:09:23Z',
      },
      notes: [
        'planned from the event alone: no tags, task definition or current task status were read from ECS',
        'port 80 is the configured default',
      ],
    });
  });

  it('falls back to the containers network interfaces when the ENI attachment has no address', () => {
    const raw = loadEvent('07-fargate-running-multicontainer-service-connect-sdi.json');
    const event = parse(withDetail(raw, { attachments: [] }));
    const plan = planPrinted(event, { described: running() }, settings);
    expect(plan).toMatchObject({ action: 'register', attributes: { AWS_INSTANCE_IPV4: '10.249.47.254' } });
  });

  it('registers the IPv6 address of a dual-stack task beside its IPv4', () => {
    const event = parse(loadEvent('written/fargate-running-dual-stack-service.json'));
    const plan = planPrinted(event, { described: running() }, { ...settings, dnsRecords: 'A+AAAA' });
    expect(plan).toMatchObject({
      action: 'register',
      dnsRecords: 'A+AAAA',
      attributes: { AWS_INSTANCE_IPV4: '10.249.47.254', AWS_INSTANCE_IPV6: '2600:1f18:4a3:6902:8e1f:c1a4:5c3d:9b10' },
    });
  });

  it('uses the first port mapping of the first essential container that has one', () => {
    const facts: TaskFacts = {
      described: running(),
      taskDefinition: taskDefinition([
        { name: 'log_router', essential: false, portMappings: [{ containerPort: 24224 }], hasHealthCheck: false },
        { name: 'sidecar', essential: true, portMappings: [], hasHealthCheck: false },
        {
          name: 'app',
          essential: true,
          portMappings: [{ containerPort: 8085 }, { containerPort: 9090 }],
          hasHealthCheck: false,
        },
      ]),
    };
    const plan = planPrinted(serviceRunning(), facts, settings);
    expect(plan).toMatchObject({ action: 'register', attributes: { AWS_INSTANCE_PORT: '8085' } });
    expect((plan as { notes?: string[] }).notes).toBeUndefined();
  });

  it('prefers the discovery:port tag over the task definition', () => {
    const facts: TaskFacts = {
      described: running({ 'discovery:port': '9443' }),
      taskDefinition: taskDefinition([
        { name: 'app', essential: true, portMappings: [{ containerPort: 8085 }], hasHealthCheck: false },
      ]),
    };
    expect(planPrinted(serviceRunning(), facts, settings)).toMatchObject({
      attributes: { AWS_INSTANCE_PORT: '9443' },
    });
  });

  it('warns about a discovery:port tag that is not a port and uses the next source', () => {
    const facts: TaskFacts = { described: running({ 'discovery:port': '70000' }) };
    const plan = planPrinted(serviceRunning(), facts, { ...settings, defaultPort: 8080 });
    expect(plan).toMatchObject({
      attributes: { AWS_INSTANCE_PORT: '8080' },
      warnings: ['ignored discovery:port="70000": not a port'],
    });
  });

  it('renames the service with the discovery:name tag', () => {
    const plan = planPrinted(serviceRunning(), { described: running({ 'discovery:name': 'api' }) }, settings);
    expect(plan).toMatchObject({
      action: 'register',
      service: 'api',
      attributes: { ECS_SERVICE_NAME: 'cdp-demo-test-15' },
    });
  });

  it('honours tags on the ECS service itself, with the task tags winning', () => {
    const facts: TaskFacts = {
      described: running({ 'discovery:name': 'from-task' }),
      serviceTags: { 'discovery:name': 'from-service', 'discovery:attr:team': 'kudos' },
    };
    expect(planPrinted(serviceRunning(), facts, settings)).toMatchObject({
      service: 'from-task',
      attributes: { team: 'kudos' },
    });
  });

  it('adds custom attributes from discovery:attr: tags', () => {
    const facts: TaskFacts = {
      described: running({ 'discovery:attr:version': '1.4.2', 'discovery:attr:stage': 'blue green' }),
    };
    expect(planPrinted(serviceRunning(), facts, settings)).toMatchObject({
      attributes: { version: '1.4.2', stage: 'blue green' },
    });
  });

  it('uses the configured DNS records for awsvpc tasks, whatever the first task has', () => {
    const plan = planPrinted(serviceRunning(), { described: running() }, { ...settings, dnsRecords: 'A+AAAA' });
    expect(plan).toMatchObject({ action: 'register', dnsRecords: 'A+AAAA' });
  });
});

describe('the registrations of a plan, in one list', () => {
  const TASK_ID = 'f8bec92bed774ee4b27711702a862de5';

  it('lists the primary registration alone for a task with one port', () => {
    const plan = planTaskEvent(serviceRunning(), { described: running() }, settings);
    if (plan.action !== 'register') throw new Error('expected a registration');
    expect(plan.registrations).toEqual([
      {
        service: 'cdp-demo-test-15',
        instanceId: TASK_ID,
        attributes: expect.objectContaining({ AWS_INSTANCE_PORT: '80', REGISTRAR_OWNER: 'ecs-cloudmap-registrar' }),
      },
    ]);
  });

  it('lists the primary registration first, then one per named port', () => {
    const plan = planTaskEvent(serviceRunning(), { described: running({ 'discovery:port:admin': '9090' }) }, settings);
    if (plan.action !== 'register') throw new Error('expected a registration');
    expect(plan.registrations.map((r) => [r.service, r.instanceId, r.attributes.AWS_INSTANCE_PORT])).toEqual([
      ['cdp-demo-test-15', TASK_ID, '80'],
      ['cdp-demo-test-15-admin', TASK_ID, '9090'],
    ]);
  });

  it('lists every service a leaving task is removed from, the primary first', () => {
    const event = parse(loadEvent('written/fargate-deactivating-service.json'));
    expect(planTaskEvent(event, {}, settings)).toMatchObject({
      action: 'deregister',
      registrations: [{ service: 'cdp-demo-test-15', instanceId: TASK_ID }],
    });
    expect(planTaskEvent(event, { described: running({ 'discovery:port:admin': '9090' }) }, settings)).toMatchObject({
      action: 'deregister',
      registrations: [
        { service: 'cdp-demo-test-15', instanceId: TASK_ID },
        { service: 'cdp-demo-test-15-admin', instanceId: TASK_ID },
      ],
    });
  });
});

describe("enforcing Cloud Map's attribute limits", () => {
  const plan = (tags: Record<string, string>) => planPrinted(serviceRunning(), { described: running(tags) }, settings);

  it('drops attributes past 30 custom ones, with a warning for each', () => {
    const tags = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [`discovery:attr:k${String(i).padStart(2, '0')}`, 'v']),
    );
    const result = plan(tags);
    if (result.action !== 'register') throw new Error('expected a registration');
    expect(Object.keys(result.attributes).filter(isCustomAttribute)).toHaveLength(30);
    // 12 custom attributes of our own (ECS_*, REGION, AVAILABILITY_ZONE, REGISTRAR_*) leave room for 18 tags.
    expect(result.warnings).toHaveLength(40 - (30 - 12));
    expect(result.warnings?.[0]).toMatch(/more than 30 custom attributes/);
  });

  it('drops a value over 1,024 characters and a key Cloud Map refuses', () => {
    const result = plan({
      'discovery:attr:big': 'x'.repeat(1025),
      'discovery:attr:bad key': 'v',
      'discovery:attr:ok': 'y',
    });
    expect(result).toMatchObject({ attributes: { ok: 'y' } });
    expect((result as { warnings: string[] }).warnings).toEqual([
      expect.stringMatching(/discovery:attr:bad key: key "bad key" is not 1-255 printable/),
      expect.stringMatching(/discovery:attr:big: value of "big" is 1025 characters/),
    ]);
  });

  it('drops a value with characters Cloud Map refuses', () => {
    const result = plan({ 'discovery:attr:emoji': 'caf\u00e9', 'discovery:attr:leading': ' a' });
    expect(Object.keys((result as { attributes: object }).attributes)).not.toContain('emoji');
    expect((result as { warnings: string[] }).warnings).toHaveLength(2);
  });

  it('keeps the total under 5,000 characters', () => {
    const tags = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`discovery:attr:k${i}`, 'v'.repeat(1000)]));
    const result = plan(tags);
    if (result.action !== 'register') throw new Error('expected a registration');
    expect(attributesLength(result.attributes)).toBeLessThanOrEqual(5000);
    expect(result.warnings?.some((w) => /exceed 5000 characters/.test(w))).toBe(true);
  });

  it('never lets a tag replace a reserved attribute', () => {
    const result = plan({ 'discovery:attr:AWS_INSTANCE_IPV4': '1.2.3.4', 'discovery:attr:REGISTRAR_OWNER': 'me' });
    expect(result).toMatchObject({
      attributes: { AWS_INSTANCE_IPV4: '10.249.47.254', REGISTRAR_OWNER: 'ecs-cloudmap-registrar' },
    });
    expect((result as { warnings: string[] }).warnings).toHaveLength(2);
  });

  it('plans only attributes within every limit, whatever the tags (property)', () => {
    const key = fc.string({ minLength: 0, maxLength: 300 });
    const value = fc.string({ minLength: 0, maxLength: 1200 });
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 45 }), (raw) => {
        const tags = Object.fromEntries(Object.entries(raw).map(([k, v]) => [`discovery:attr:${k}`, v]));
        const result = plan(tags);
        if (result.action !== 'register') return true;
        const custom = Object.keys(result.attributes).filter(isCustomAttribute);
        return (
          custom.length <= 30 &&
          attributesLength(result.attributes) <= 5000 &&
          Object.entries(result.attributes).every(([k, v]) => k.length <= 255 && v.length <= 1024 && /^[!-~]+$/.test(k))
        );
      }),
      { numRuns: 300 },
    );
  });
});

describe('deciding not to register', () => {
  it('waits while the task is PENDING', () => {
    const event = parse(loadEvent('written/fargate-pending-service.json'));
    expect(planPrinted(event, {}, settings)).toMatchObject({ action: 'ignore', reason: 'not-running-yet' });
  });

  it('skips a task tagged discovery:enabled=false', () => {
    const plan = planPrinted(serviceRunning(), { described: running({ 'discovery:enabled': 'FALSE' }) }, settings);
    expect(plan).toMatchObject({ action: 'ignore', reason: 'opted-out' });
  });

  it('skips a task whose service opted out through its own tags', () => {
    const plan = planPrinted(
      serviceRunning(),
      { described: running(), serviceTags: { 'discovery:enabled': 'false' } },
      settings,
    );
    expect(plan).toMatchObject({ action: 'ignore', reason: 'opted-out' });
  });

  it('registers a standalone task only when tagged discovery:name', () => {
    const event = parse(loadEvent('01-fargate-awsvpc-running-standalone-docs.json'));
    expect(planPrinted(event, { described: running() }, settings)).toMatchObject({
      reason: 'standalone-task-without-name',
    });
    expect(planPrinted(event, { described: running({ 'discovery:name': 'hello' }) }, settings)).toMatchObject({
      action: 'register',
      service: 'hello',
      attributes: { AWS_INSTANCE_IPV4: '10.0.0.139', ECS_TASK_DEFINITION_FAMILY: 'sample-fargate' },
    });
  });

  it('never resurrects a task that ECS says is no longer running', () => {
    const plan = planPrinted(
      serviceRunning(),
      { described: running({}, { lastStatus: 'STOPPED', desiredStatus: 'STOPPED', version: 5 }) },
      settings,
    );
    expect(plan).toMatchObject({ action: 'ignore', reason: 'task-no-longer-running' });
  });

  it('calls an event stale when ECS has a newer version of the task that is leaving', () => {
    const facts: TaskFacts = {
      described: running({}, { lastStatus: 'RUNNING', desiredStatus: 'STOPPED', version: 6 }),
    };
    expect(planPrinted(serviceRunning(), facts, settings)).toMatchObject({ action: 'ignore', reason: 'stale-event' });
  });

  it('does not register a task ECS no longer knows', () => {
    expect(planPrinted(serviceRunning(), { described: null }, settings)).toMatchObject({ reason: 'task-not-found' });
  });

  it('refuses a discovery:name that is not a DNS label', () => {
    for (const name of ['has.dot', 'x'.repeat(64), '-lead', 'sp ace', 'caf\u00e9']) {
      const plan = planPrinted(serviceRunning(), { described: running({ 'discovery:name': name }) }, settings);
      expect(plan).toMatchObject({ action: 'ignore', reason: 'invalid-service-name' });
    }
  });

  it('refuses a task id that is not a valid instance id', () => {
    const raw = loadEvent('07-fargate-running-multicontainer-service-connect-sdi.json');
    const event = parse(withDetail(raw, { taskArn: `arn:aws:ecs:eu-west-2:332499610595:task/c/${'a'.repeat(65)}` }));
    expect(planPrinted(event, { described: running() }, settings)).toMatchObject({ reason: 'invalid-instance-id' });
  });

  it('does not register a bridge-mode task whose container instance has no known address', () => {
    const event = parse(loadEvent('written/ec2-bridge-running-service.json'));
    expect(planPrinted(event, { described: running(), containerInstance: null }, settings)).toMatchObject({
      action: 'ignore',
      reason: 'address-unavailable',
    });
  });
});

describe('deregistering a leaving task', () => {
  it('deregisters when the task is DEACTIVATING', () => {
    const event = parse(loadEvent('written/fargate-deactivating-service.json'));
    expect(planPrinted(event, {}, settings)).toMatchObject({
      action: 'deregister',
      service: 'cdp-demo-test-15',
      instanceId: 'f8bec92bed774ee4b27711702a862de5',
      version: 6,
    });
  });

  it.each(['DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED'])(
    'deregisters when lastStatus is %s',
    (lastStatus) => {
      const event = parse(
        withDetail(loadEvent('07-fargate-running-multicontainer-service-connect-sdi.json'), { lastStatus }),
      );
      expect(planPrinted(event, {}, settings).action).toBe('deregister');
    },
  );

  it('deregisters as soon as desiredStatus is STOPPED, while the task still runs', () => {
    const event = parse(
      withDetail(loadEvent('07-fargate-running-multicontainer-service-connect-sdi.json'), { desiredStatus: 'STOPPED' }),
    );
    expect(planPrinted(event, { described: running() }, settings).action).toBe('deregister');
  });

  it('deregisters a standalone task tagged discovery:name when it is DEPROVISIONING', () => {
    const event = parse(loadEvent('04-fargate-deprovisioning-essential-exited-standalone.json'));
    expect(planPrinted(event, { described: running({ 'discovery:name': 'voter' }) }, settings)).toMatchObject({
      action: 'deregister',
      service: 'voter',
    });
  });

  it('deregisters even when the task opted out later, since its instance may predate the tag', () => {
    const event = parse(loadEvent('written/fargate-deactivating-service.json'));
    const plan = planPrinted(event, { described: running({ 'discovery:enabled': 'false' }) }, settings);
    expect(plan.action).toBe('deregister');
  });

  it('keeps the registered attribute names stable', () => {
    expect(Object.values(ATTR)).toContain('ECS_TASK_VERSION');
  });
});

describe('deployment-aware attributes', () => {
  const withDetail = (patch: Record<string, unknown>) => {
    const event = serviceRunning();
    Object.assign(event.detail as Record<string, unknown>, patch);
    return planPrinted(event, {}, settings);
  };

  it("carries the task definition revision and the ECS deployment id from a service task's startedBy", () => {
    // A service task's startedBy is the id of the deployment that started it (ECS API reference, Task:
    // https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Task.html), as in this fixture's real event.
    const result = withDetail({});
    if (result.action !== 'register') throw new Error('expected a registration');
    expect(result.attributes).toMatchObject({
      ECS_TASK_DEFINITION_REVISION: '1',
      ECS_DEPLOYMENT_ID: 'ecs-svc/7617799119934277582',
    });
  });

  it('names no deployment for a task started by anything but a service deployment', () => {
    for (const startedBy of ['my-batch-job', 'ecs-svc/', undefined]) {
      const result = withDetail({ startedBy });
      if (result.action !== 'register') throw new Error('expected a registration');
      expect(result.attributes.ECS_DEPLOYMENT_ID).toBeUndefined();
      expect(result.attributes.ECS_TASK_DEFINITION_REVISION).toBe('1');
    }
  });

  it('names the revision of the task definition ARN, and none when the ARN has none', () => {
    const arn = 'arn:aws:ecs:eu-west-2:332499610595:task-definition/cdp-demo-test-15';
    const revised = withDetail({ taskDefinitionArn: `${arn}:42` });
    const bare = withDetail({ taskDefinitionArn: arn });
    if (revised.action !== 'register' || bare.action !== 'register') throw new Error('expected registrations');
    expect(revised.attributes.ECS_TASK_DEFINITION_REVISION).toBe('42');
    expect(bare.attributes.ECS_TASK_DEFINITION_REVISION).toBeUndefined();
  });
});
