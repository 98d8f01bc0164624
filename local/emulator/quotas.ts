import { AwsError } from './aws-error';

/** The services whose calls the quotas meter (EC2 and the forwarded DynamoDB are not metered). */
export type QuotaService = 'ecs' | 'cloudMap' | 'fargate';

/**
 * One token bucket: the actions that share it, its capacity (the burst) and its refill rate (the
 * sustained rate, tokens per second). Every call of one of its actions takes a token; a call that finds
 * the bucket empty is throttled.
 */
export interface QuotaBucket {
  service: QuotaService;
  /** A name for reports (ECS's category, or the action). */
  name: string;
  actions: string[];
  burst: number;
  rate: number;
}

/** The quotas option of the faults knob: AWS's documented buckets, or a list of one's own. */
export type QuotaSetting = 'aws' | QuotaBucket[];

const ecs = (name: string, actions: string[], burst: number, rate: number): QuotaBucket => ({
  service: 'ecs',
  name,
  actions,
  burst,
  rate,
});

/** The metered action of a Fargate task launch (the service scheduler's, not an API call). */
export const FARGATE_LAUNCH = 'LaunchTask';

/**
 * AWS's documented request quotas, per account and Region.
 *
 * ECS: "Request throttling for the Amazon ECS API", table "Request Token Bucket Sizes and Refill Rates"
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html): the actions of a
 * category share one bucket; a throttled call answers 400 ThrottlingException "Rate exceeded".
 *
 * Cloud Map: "AWS Cloud Map service quotas" (https://docs.aws.amazon.com/cloud-map/latest/dg/cloud-map-limits.html)
 * documents request rates for DiscoverInstances only (burst 2,000, steady 1,000 a second) and
 * DiscoverInstancesRevision (3,000 a second); "AWS Cloud Map API request throttling quota"
 * (https://docs.aws.amazon.com/cloud-map/latest/dg/throttling.html) says a throttled DiscoverInstances
 * answers RequestLimitExceeded. No rate is published for the other Cloud Map actions (ListInstances,
 * RegisterInstance, GetOperation, ...), so this preset does not meter them: give your own buckets for them.
 */
export const AWS_QUOTAS: readonly QuotaBucket[] = [
  ecs(
    'Cluster modify actions',
    ['CreateCluster', 'DeleteCluster', 'PutClusterCapacityProviders', 'UpdateCluster', 'UpdateClusterSettings'],
    20,
    1,
  ),
  ecs('Cluster read actions', ['DescribeClusters', 'ListClusters'], 50, 20),
  ecs('Task definition modify actions', ['DeregisterTaskDefinition', 'RegisterTaskDefinition'], 20, 1),
  ecs(
    'Task definition read actions',
    ['DescribeTaskDefinition', 'ListTaskDefinitions', 'ListTaskDefinitionFamilies'],
    50,
    20,
  ),
  ecs('Task definition deletion actions', ['DeleteTaskDefinitions'], 5, 1),
  ecs(
    'Capacity provider modify actions',
    ['CreateCapacityProvider', 'DeleteCapacityProvider', 'UpdateCapacityProvider'],
    10,
    1,
  ),
  ecs('Capacity provider read actions', ['DescribeCapacityProviders'], 50, 20),
  ecs('Tag modify actions', ['TagResource', 'UntagResource'], 20, 10),
  ecs('Tag read actions', ['ListTagsForResource'], 50, 20),
  ecs('Setting modify actions', ['DeleteAccountSetting', 'PutAccountSetting', 'PutAccountSettingDefault'], 10, 1),
  ecs('Setting read actions', ['ListAccountSettings'], 50, 20),
  ecs(
    'Cluster resource modify actions',
    [
      'DeleteAttributes',
      'DeregisterContainerInstance',
      'ExecuteCommand',
      'PutAttributes',
      'RunTask',
      'StartTask',
      'StopTask',
      'UpdateContainerAgent',
      'UpdateContainerInstancesState',
    ],
    100,
    40,
  ),
  ecs(
    'Cluster resource read actions',
    ['DescribeContainerInstances', 'DescribeTasks', 'ListAttributes', 'ListContainerInstances', 'ListTasks'],
    100,
    20,
  ),
  ecs(
    'Agent modify actions',
    [
      'RegisterContainerInstance',
      'SubmitAttachmentStateChanges',
      'SubmitContainerStateChange',
      'SubmitTaskStateChange',
    ],
    200,
    120,
  ),
  ecs('Service modify actions', ['CreateService', 'DeleteService', 'UpdateService'], 50, 5),
  ecs('Service read actions', ['DescribeServices', 'ListServices'], 100, 20),
  ecs('Service deployment actions', ['DescribeServiceDeployments', 'ListServiceDeployments'], 50, 20),
  ecs('Service revision actions', ['DescribeServiceRevisions'], 50, 20),
  ecs('Task protection actions', ['UpdateTaskProtection', 'GetTaskProtection'], 200, 80),
  ecs('Cluster service resource read actions', ['ListServicesByNamespace'], 10, 1),
  // Fargate's task launch rate, per account and Region (https://docs.aws.amazon.com/AmazonECS/latest/userguide/throttling.html):
  // "you can immediately launch up to 100 Amazon ECS tasks ... with a sustained launch rate of 20 ... per second".
  // The service scheduler takes a token per Fargate task it starts, and waits for one when there is none.
  {
    service: 'fargate',
    name: 'Fargate On-Demand task launches',
    actions: [FARGATE_LAUNCH],
    burst: 100,
    rate: 20,
  },
  { service: 'cloudMap', name: 'DiscoverInstances', actions: ['DiscoverInstances'], burst: 2000, rate: 1000 },
  {
    service: 'cloudMap',
    name: 'DiscoverInstancesRevision',
    actions: ['DiscoverInstancesRevision'],
    burst: 3000,
    rate: 3000,
  },
];

/** The Cloud Map actions whose throttling AWS documents as RequestLimitExceeded (the discovery data plane). */
const REQUEST_LIMIT_ACTIONS = new Set(['DiscoverInstances', 'DiscoverInstancesRevision']);

/** Reads and checks the knob's `quotas` value; throws RangeError naming what is wrong. */
export function parseQuotaSetting(value: unknown): QuotaSetting {
  if (value === 'aws') return 'aws';
  if (!Array.isArray(value)) throw new RangeError('quotas is "aws" or a list of buckets');
  return value.map((bucket: unknown, i) => {
    const b = bucket as Partial<QuotaBucket> | null;
    const where = `quotas[${i}]`;
    if (!b || typeof b !== 'object') throw new RangeError(`${where} is an object`);
    if (b.service !== 'ecs' && b.service !== 'cloudMap') throw new RangeError(`${where}.service is ecs or cloudMap`);
    if (
      !Array.isArray(b.actions) ||
      b.actions.length === 0 ||
      !b.actions.every((a) => typeof a === 'string' && a !== '')
    ) {
      throw new RangeError(`${where}.actions is a non-empty list of action names`);
    }
    for (const key of ['burst', 'rate'] as const) {
      const n = b[key];
      if (typeof n !== 'number' || !Number.isFinite(n) || n < (key === 'burst' ? 1 : 0)) {
        throw new RangeError(`${where}.${key} is a number >= ${key === 'burst' ? 1 : 0}`);
      }
    }
    return {
      service: b.service,
      name: typeof b.name === 'string' && b.name !== '' ? b.name : b.actions.join(','),
      actions: [...b.actions],
      burst: b.burst as number,
      rate: b.rate as number,
    };
  });
}

/** The buckets a setting stands for. */
export function quotaBuckets(setting: QuotaSetting): readonly QuotaBucket[] {
  return setting === 'aws' ? AWS_QUOTAS : setting;
}

/**
 * Where the buckets read time: real milliseconds (monotonic) and the emulator's time scale. Buckets
 * refill on the emulator's simulated clock, as every AWS-side rate of the emulator runs: a simulated
 * second lasts `scale` real seconds, so at scale 0.1 a bucket refills 10 times faster in real time, and at
 * scale 0 (instant) it never runs dry.
 */
export interface QuotaClock {
  realNow: () => number;
  scale: () => number;
}

interface Meter {
  bucket: QuotaBucket;
  tokens: number;
}

/**
 * Token buckets per account and Region, as AWS meters requests: a bucket starts full, each call takes a
 * token, and tokens come back at the refill rate up to the capacity. The refill is continuous (AWS adds
 * the second's tokens in steps; over any stretch of a second or more the two admit the same calls).
 */
export class Quotas {
  private readonly meters = new Map<string, Meter>();
  private readonly all: Meter[] = [];
  private lastReal: number;

  constructor(
    buckets: readonly QuotaBucket[],
    private readonly clock: QuotaClock,
  ) {
    for (const bucket of buckets) {
      const meter = { bucket, tokens: bucket.burst };
      this.all.push(meter);
      for (const action of bucket.actions) this.meters.set(`${bucket.service}.${action}`, meter);
    }
    this.lastReal = clock.realNow();
  }

  /** Takes a token for the call, or throws the error AWS answers when the bucket is empty. */
  admit(service: QuotaService, action: string): void {
    this.refill();
    const meter = this.meters.get(`${service}.${action}`);
    if (!meter) return;
    if (meter.tokens >= 1) {
      meter.tokens -= 1;
      return;
    }
    if (service === 'cloudMap' && REQUEST_LIMIT_ACTIONS.has(action)) {
      throw new AwsError(
        'RequestLimitExceeded',
        "The operation can't be completed because you've reached the quota for the number of requests (quotas).",
      );
    }
    throw new AwsError('ThrottlingException', 'Rate exceeded (quotas).');
  }

  /**
   * Takes a token for something the emulator does itself (a Fargate launch), without throwing: 0 when taken,
   * else the simulated milliseconds until a token is there. Unmetered: always 0.
   */
  take(service: QuotaService, action: string): number {
    this.refill();
    const meter = this.meters.get(`${service}.${action}`);
    if (!meter) return 0;
    if (meter.tokens >= 1) {
      meter.tokens -= 1;
      return 0;
    }
    return meter.bucket.rate > 0
      ? Math.ceil(((1 - meter.tokens) * 1000) / meter.bucket.rate)
      : Number.POSITIVE_INFINITY;
  }

  /** Tokens left in each bucket now, by bucket name (for reports). */
  tokens(): Record<string, number> {
    this.refill();
    return Object.fromEntries(this.all.map((m) => [`${m.bucket.service}:${m.bucket.name}`, m.tokens]));
  }

  private refill(): void {
    const real = this.clock.realNow();
    const scale = this.clock.scale();
    const simulatedMs = scale === 0 ? Number.POSITIVE_INFINITY : (real - this.lastReal) / scale;
    this.lastReal = real;
    if (simulatedMs <= 0) return;
    for (const meter of this.all) {
      // Instant time (scale 0) fills every bucket: Infinity x a rate of 0 would be NaN, an empty bucket for ever.
      meter.tokens =
        simulatedMs === Number.POSITIVE_INFINITY
          ? meter.bucket.burst
          : Math.min(meter.bucket.burst, meter.tokens + (simulatedMs * meter.bucket.rate) / 1000);
    }
  }
}

/** Calls by `service.Action`: how many arrived and how many of them the quotas throttled. */
export type CallCounts = Record<string, { calls: number; throttled: number }>;

/** Counts every metered call, throttled or not (the `/_local/calls` knob reads it). */
export class CallCounter {
  private counts: CallCounts = {};

  record(service: QuotaService, action: string, throttled: boolean): void {
    const key = `${service}.${action}`;
    const entry = this.counts[key] ?? { calls: 0, throttled: 0 };
    entry.calls += 1;
    if (throttled) entry.throttled += 1;
    this.counts[key] = entry;
  }

  snapshot(): CallCounts {
    return Object.fromEntries(Object.entries(this.counts).map(([key, value]) => [key, { ...value }]));
  }

  reset(): void {
    this.counts = {};
  }
}
