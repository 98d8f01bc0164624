import {
  CreateServiceCommand,
  DescribeClustersCommand,
  ECSClient,
  ListClustersCommand,
  paginateListTasks,
} from '@aws-sdk/client-ecs';
import { DiscoverInstancesCommand } from '@aws-sdk/client-servicediscovery';
import { AWS_QUOTAS, type QuotaBucket, Quotas } from '../../../local/emulator/quotas';
import { fargateService, registerApp } from '../../../support/ecs-setup';
import { type Harness, rejectionOf, startHarness, stopHarness } from './emulator-harness';

/*
 * AWS's request quotas as the emulator enforces them.
 * ECS: token buckets per category of actions, "Request throttling for the Amazon ECS API"
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html): a bucket holds
 * `burst` tokens, refills `rate` a second, and a call finding it empty answers 400 ThrottlingException.
 * Cloud Map: "AWS Cloud Map service quotas" (https://docs.aws.amazon.com/cloud-map/latest/dg/cloud-map-limits.html)
 * gives DiscoverInstances a burst of 2,000 and a steady 1,000 a second, and "AWS Cloud Map API request
 * throttling quota" (https://docs.aws.amazon.com/cloud-map/latest/dg/throttling.html) names the error
 * RequestLimitExceeded.
 */

/** A clock the test moves: real milliseconds and the emulator's time scale. */
function fakeClock(scale = 1) {
  const clock = { real: 0, scale };
  return { clock, quotaClock: { realNow: () => clock.real, scale: () => clock.scale } };
}

/** How many of `count` calls the quotas admit right now. */
function admitted(quotas: Quotas, service: 'ecs' | 'cloudMap', action: string, count: number): number {
  let ok = 0;
  for (let i = 0; i < count; i++) {
    try {
      quotas.admit(service, action);
      ok += 1;
    } catch {
      // Throttled: counted by not counting it.
    }
  }
  return ok;
}

describe('the token buckets (fake clock)', () => {
  it('admit a burst of the bucket size, then throttle with ThrottlingException', () => {
    const { quotaClock } = fakeClock();
    const quotas = new Quotas(AWS_QUOTAS, quotaClock);

    expect(admitted(quotas, 'ecs', 'DescribeClusters', 50)).toBe(50);
    expect(() => quotas.admit('ecs', 'DescribeClusters')).toThrow(
      expect.objectContaining({ code: 'ThrottlingException', status: 400 }),
    );
  });

  it('refill at the sustained rate, and never above the bucket size', () => {
    const { clock, quotaClock } = fakeClock();
    const quotas = new Quotas(AWS_QUOTAS, quotaClock);
    admitted(quotas, 'ecs', 'DescribeTasks', 100);

    clock.real += 1000;
    expect(admitted(quotas, 'ecs', 'DescribeTasks', 100)).toBe(20);

    clock.real += 60_000;
    expect(admitted(quotas, 'ecs', 'DescribeTasks', 1000)).toBe(100);
  });

  it('share one bucket between the actions of a category (DescribeTasks and ListTasks)', () => {
    const { quotaClock } = fakeClock();
    const quotas = new Quotas(AWS_QUOTAS, quotaClock);

    expect(admitted(quotas, 'ecs', 'ListTasks', 60)).toBe(60);
    expect(admitted(quotas, 'ecs', 'DescribeTasks', 60)).toBe(40);
    // Another category has its own bucket.
    expect(admitted(quotas, 'ecs', 'DescribeServices', 100)).toBe(100);
  });

  it('answer RequestLimitExceeded for DiscoverInstances over its burst of 2,000', () => {
    const { clock, quotaClock } = fakeClock();
    const quotas = new Quotas(AWS_QUOTAS, quotaClock);

    expect(admitted(quotas, 'cloudMap', 'DiscoverInstances', 2000)).toBe(2000);
    expect(() => quotas.admit('cloudMap', 'DiscoverInstances')).toThrow(
      expect.objectContaining({ code: 'RequestLimitExceeded' }),
    );
    clock.real += 1000;
    expect(admitted(quotas, 'cloudMap', 'DiscoverInstances', 2000)).toBe(1000);
  });

  it('do not meter actions AWS publishes no rate for (Cloud Map ListInstances in the aws preset)', () => {
    const { quotaClock } = fakeClock();
    const quotas = new Quotas(AWS_QUOTAS, quotaClock);

    expect(admitted(quotas, 'cloudMap', 'ListInstances', 10_000)).toBe(10_000);
  });

  it('refill on the simulated clock: at time scale 0.1 a real 100 ms is a second', () => {
    const { clock, quotaClock } = fakeClock(0.1);
    const quotas = new Quotas(AWS_QUOTAS, quotaClock);
    admitted(quotas, 'ecs', 'ListClusters', 50);

    clock.real += 100;
    expect(admitted(quotas, 'ecs', 'ListClusters', 50)).toBe(20);
  });

  it('never run dry at time scale 0 (an instant world)', () => {
    const { clock, quotaClock } = fakeClock(0);
    const quotas = new Quotas(AWS_QUOTAS, quotaClock);
    admitted(quotas, 'ecs', 'ListClusters', 50);

    clock.real += 1;
    expect(admitted(quotas, 'ecs', 'ListClusters', 50)).toBe(50);
  });
});

describe('the quotas option of the faults knob', () => {
  let h: Harness;
  afterEach(() => stopHarness(h));

  const bucket = (
    actions: string[],
    burst: number,
    rate: number,
    service: 'ecs' | 'cloudMap' = 'ecs',
  ): QuotaBucket => ({
    service,
    name: actions.join(','),
    actions,
    burst,
    rate,
  });

  it('throttles ECS calls over their bucket with ThrottlingException, and {} clears it', async () => {
    h = await startHarness({ timeScale: 1 });
    h.emulator.setFaults({ quotas: [bucket(['ListClusters'], 2, 0)] });

    await h.ecs.send(new ListClustersCommand({}));
    await h.ecs.send(new ListClustersCommand({}));
    const error = await rejectionOf(h.ecs.send(new ListClustersCommand({})));
    expect(error.name).toBe('ThrottlingException');
    expect(error.$metadata).toMatchObject({ httpStatusCode: 400 });

    h.emulator.setFaults({});
    await expect(h.ecs.send(new ListClustersCommand({}))).resolves.toBeDefined();
  });

  it('answers Cloud Map DiscoverInstances over its bucket with RequestLimitExceeded', async () => {
    h = await startHarness({ timeScale: 1 });
    h.emulator.setFaults({ quotas: [bucket(['DiscoverInstances'], 1, 0, 'cloudMap')] });
    const discover = () =>
      h.cloudMap.send(new DiscoverInstancesCommand({ NamespaceName: 'none.local', ServiceName: 'api' }));

    expect((await rejectionOf(discover())).name).toBe('NamespaceNotFound');
    const error = await rejectionOf(discover());
    expect(error.name).toBe('RequestLimitExceeded');
    expect(error.$metadata).toMatchObject({ httpStatusCode: 400 });
  });

  it('is seen by the SDK as throttling: it retries the call, each attempt counted', async () => {
    h = await startHarness({ timeScale: 1 });
    h.emulator.setFaults({ quotas: [bucket(['ListClusters', 'DescribeClusters'], 1, 0)] });
    const retrying = new ECSClient({
      endpoint: h.emulator.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 2,
    });
    try {
      await retrying.send(new ListClustersCommand({}));
      const error = await rejectionOf(retrying.send(new DescribeClustersCommand({ clusters: ['default'] })));

      expect(error.name).toBe('ThrottlingException');
      expect(error.$metadata).toMatchObject({ attempts: 2 });
      expect(h.emulator.knob('calls')).toEqual({
        calls: {
          'ecs.ListClusters': { calls: 1, throttled: 0 },
          'ecs.DescribeClusters': { calls: 2, throttled: 2 },
        },
      });
    } finally {
      retrying.destroy();
    }
  });

  it('reports "aws" as set, counts calls by action, and resets the counts on POST', async () => {
    h = await startHarness();
    h.emulator.setFaults({ quotas: 'aws' });
    await h.ecs.send(new ListClustersCommand({}));
    await h.ecs.send(new ListClustersCommand({}));

    expect(h.emulator.knob('faults')).toEqual({ quotas: 'aws' });
    expect(h.emulator.knob('calls')).toEqual({ calls: { 'ecs.ListClusters': { calls: 2, throttled: 0 } } });
    expect(h.emulator.knob('calls', {})).toEqual({ calls: {} });
  });

  it('refuses a malformed bucket with a message naming the field, keeping the settings', async () => {
    h = await startHarness();
    h.emulator.setFaults({ quotas: 'aws' });

    expect(() => h.emulator.setFaults({ quotas: [{ ...bucket(['ListTasks'], 0, 1) }] })).toThrow(/quotas\[0\]\.burst/);
    expect(() => h.emulator.setFaults({ quotas: 'gcp' as never })).toThrow(/quotas is "aws"/);
    expect(h.emulator.knob('faults')).toEqual({ quotas: 'aws' });
  });
});

/*
 * Fargate's task launch rate, "AWS Fargate throttling quotas"
 * (https://docs.aws.amazon.com/AmazonECS/latest/userguide/throttling.html): "you can immediately launch up to 100
 * Amazon ECS tasks ... with a sustained launch rate of 20 ... per second". With the aws quotas on, the service
 * scheduler starts a large Fargate service's tasks at that rate, as ECS does.
 */
describe('the Fargate launch rate (quotas "aws")', () => {
  let h: Harness;
  afterEach(() => stopHarness(h));

  async function taskCount(): Promise<number> {
    let count = 0;
    for await (const page of paginateListTasks({ client: h.ecs }, { cluster: 'rate', desiredStatus: 'RUNNING' })) {
      count += page.taskArns?.length ?? 0;
    }
    return count;
  }

  it('starts 100 tasks of a service at once, then 20 a second', async () => {
    // Time scale 0.1: the bucket refills 200 tokens a real second, so the first count may be a few above 100.
    h = await startHarness({ timeScale: 0.1 });
    await registerApp(h.ecs, 'web', { portMappings: [{ containerPort: 80 }] }, 'rate');
    h.emulator.setFaults({ quotas: 'aws' });
    const started = performance.now();
    await h.ecs.send(
      new CreateServiceCommand(
        fargateService({ cluster: 'rate', serviceName: 'web', taskDefinition: 'web', desiredCount: 130 }),
      ),
    );
    const first = await taskCount();
    expect(first).toBeGreaterThanOrEqual(100);
    expect(first).toBeLessThan(120);
    await h.emulator.idle();
    expect(await taskCount()).toBe(130);
    // 30 beyond the burst at 20 a second: at least 1.5 simulated seconds, 150 real ms at this time scale.
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('starts them all at once without the quotas', async () => {
    h = await startHarness({ timeScale: 0.01 });
    await registerApp(h.ecs, 'web', { portMappings: [{ containerPort: 80 }] }, 'rate');
    await h.ecs.send(
      new CreateServiceCommand(
        fargateService({ cluster: 'rate', serviceName: 'web', taskDefinition: 'web', desiredCount: 160 }),
      ),
    );
    expect(await taskCount()).toBe(160);
  });
});
