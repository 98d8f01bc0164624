import { readFileSync } from 'node:fs';
import { applyDelivery, deliveryFromConfig, describeDelivery, normalizedName } from '../../local/delivery';
import {
  type BusEvent,
  createEmulator,
  type Emulator,
  type InvokeResult,
  matchesEventPattern,
} from '../../local/emulator';
import type { PrintedConfig } from '../../local/rules';

// The delivery serverless.yml declares, as the local stack builds it. What each setting means in AWS:
// https://www.serverless.com/framework/docs/providers/aws/events/sqs (sqs events: batchSize, maximumBatchingWindow,
//   maximumConcurrency, functionResponseType),
// https://www.serverless.com/framework/docs/providers/aws/guide/functions (reservedConcurrency, maximumRetryAttempts,
//   maximumEventAge, destinations),
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sqs-queue.html (QueueName,
//   DelaySeconds, VisibilityTimeout, RedrivePolicy),
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-events-rule.html (Targets, State).

const getAtt = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const running = { source: ['aws.ecs'], 'detail-type': ['ECS Task State Change'], detail: { lastStatus: ['RUNNING'] } };
const leaving = {
  source: ['aws.ecs'],
  'detail-type': ['ECS Task State Change'],
  detail: { lastStatus: ['DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED'] },
};
const dlqs = {
  RuleDlq: {
    Type: 'AWS::SQS::Queue',
    Properties: { QueueName: 'svc-local-rule-dlq', MessageRetentionPeriod: 1209600 },
  },
  RegisterDlq: {
    Type: 'AWS::SQS::Queue',
    Properties: { QueueName: 'svc-local-register-dlq', MessageRetentionPeriod: 1209600 },
  },
};

/** Before issue 13: one rule -> register, invoked asynchronously; `resources` a list of fragments. */
const BEFORE: PrintedConfig = {
  service: 'svc',
  functions: {
    register: {
      maximumRetryAttempts: 2,
      maximumEventAge: 21600,
      destinations: { onFailure: { type: 'sqs', arn: getAtt('RegisterDlq') } },
      events: [{ eventBridge: { pattern: { ...running, detail: { lastStatus: ['RUNNING', 'STOPPING'] } } } }],
    },
    lookup: { events: [] },
  },
  resources: [
    { Resources: { TaskTable: { Type: 'AWS::DynamoDB::Table', Properties: {} } } },
    { Resources: dlqs, Outputs: {} },
    { extensions: { RegisterLambdaFunction: { Properties: { ReservedConcurrentExecutions: 5 } } } },
  ],
};

/** After issue 13 (COMMON13.md): two rules -> two queues -> two functions through event source mappings. */
const AFTER: PrintedConfig = {
  service: 'svc',
  functions: {
    register: {
      events: [
        {
          sqs: {
            arn: getAtt('RegisterQueue'),
            batchSize: 10,
            maximumBatchingWindow: 0,
            functionResponseType: 'ReportBatchItemFailures',
            maximumConcurrency: 5,
          },
        },
      ],
    },
    deregister: {
      events: [{ sqs: { arn: getAtt('LeavingQueue'), batchSize: 10, maximumConcurrency: 10 } }],
    },
  },
  resources: {
    Resources: {
      ...dlqs,
      RegisterQueue: {
        Type: 'AWS::SQS::Queue',
        Properties: {
          QueueName: 'svc-local-register',
          VisibilityTimeout: 360,
          MessageRetentionPeriod: 21600,
          SqsManagedSseEnabled: true,
          RedrivePolicy: { deadLetterTargetArn: getAtt('RegisterDlq'), maxReceiveCount: 5 },
        },
      },
      LeavingQueue: {
        Type: 'AWS::SQS::Queue',
        Properties: {
          QueueName: 'svc-local-leaving',
          VisibilityTimeout: 360,
          RedrivePolicy: { deadLetterTargetArn: getAtt('RegisterDlq'), maxReceiveCount: 5 },
        },
      },
      TaskRunningRule: {
        Type: 'AWS::Events::Rule',
        Properties: {
          Name: 'svc-local-task-running',
          State: 'ENABLED',
          EventPattern: running,
          Targets: [
            { Id: 'RegisterQueue', Arn: getAtt('RegisterQueue'), DeadLetterConfig: { Arn: getAtt('RuleDlq') } },
          ],
        },
      },
      TaskLeavingRule: {
        Type: 'AWS::Events::Rule',
        Properties: {
          Name: 'svc-local-task-leaving',
          EventPattern: leaving,
          Targets: [{ Id: 'LeavingQueue', Arn: getAtt('LeavingQueue') }],
        },
      },
      OffRule: { Type: 'AWS::Events::Rule', Properties: { Name: 'off', State: 'DISABLED', EventPattern: running } },
    },
    extensions: {
      RegisterLambdaFunction: { Properties: { ReservedConcurrentExecutions: 5 } },
      DeregisterLambdaFunction: { Properties: { ReservedConcurrentExecutions: 10 } },
    },
  },
};

function taskEvent(lastStatus: string): BusEvent {
  return {
    version: '0',
    id: `event-${lastStatus}`,
    'detail-type': 'ECS Task State Change',
    source: 'aws.ecs',
    account: '000000000000',
    time: '2026-01-01T00:00:00Z',
    region: 'us-east-1',
    resources: ['arn:aws:ecs:us-east-1:000000000000:task/kudos/abc'],
    detail: { lastStatus, desiredStatus: lastStatus === 'RUNNING' ? 'RUNNING' : 'STOPPED' },
  };
}

/** The task events a function got, whether asynchronously (the event) or from a queue (SQS records of events). */
function eventsIn(payload: unknown): BusEvent[] {
  const records = (payload as { Records?: { body: string }[] }).Records;
  return records ? records.map((record) => JSON.parse(record.body) as BusEvent) : [payload as BusEvent];
}

describe('the delivery from the resolved serverless config', () => {
  it('reads the design before issue 13: an eventBridge rule to the function, async settings, reserved concurrency from the extensions', () => {
    expect(deliveryFromConfig(BEFORE, 'local')).toEqual({
      queues: [
        { logicalId: 'RuleDlq', name: 'svc-local-rule-dlq', options: { messageRetentionPeriod: 1209600 } },
        { logicalId: 'RegisterDlq', name: 'svc-local-register-dlq', options: { messageRetentionPeriod: 1209600 } },
      ],
      functions: [
        {
          key: 'register',
          name: 'svc-local-register',
          reservedConcurrency: 5,
          maximumRetryAttempts: 2,
          maximumEventAgeSeconds: 21600,
          onFailureQueue: 'svc-local-register-dlq',
        },
        { key: 'lookup', name: 'svc-local-lookup' },
      ],
      rules: [
        {
          name: 'register-0',
          pattern: { ...running, detail: { lastStatus: ['RUNNING', 'STOPPING'] } },
          target: { function: 'svc-local-register' },
        },
      ],
      eventSourceMappings: [],
      unsupported: [],
    });
  });

  it('reads the design after it: rule resources to queues, redrive policies, sqs events as mappings', () => {
    const delivery = deliveryFromConfig(AFTER, 'local');
    expect(delivery.queues.find((queue) => queue.logicalId === 'RegisterQueue')).toEqual({
      logicalId: 'RegisterQueue',
      name: 'svc-local-register',
      options: {
        visibilityTimeout: 360,
        messageRetentionPeriod: 21600,
        redrivePolicy: { deadLetterQueue: 'svc-local-register-dlq', maxReceiveCount: 5 },
      },
    });
    expect(delivery.functions).toEqual([
      { key: 'register', name: 'svc-local-register', reservedConcurrency: 5 },
      { key: 'deregister', name: 'svc-local-deregister', reservedConcurrency: 10 },
    ]);
    expect(delivery.rules).toEqual([
      { name: 'svc-local-task-running', pattern: running, target: { queue: 'svc-local-register' } },
      { name: 'svc-local-task-leaving', pattern: leaving, target: { queue: 'svc-local-leaving' } },
    ]);
    expect(delivery.eventSourceMappings).toEqual([
      {
        queue: 'svc-local-register',
        functionName: 'svc-local-register',
        batchSize: 10,
        maximumBatchingWindowSeconds: 0,
        maximumConcurrency: 5,
        functionResponseType: 'ReportBatchItemFailures',
      },
      { queue: 'svc-local-leaving', functionName: 'svc-local-deregister', batchSize: 10, maximumConcurrency: 10 },
    ]);
    expect(delivery.unsupported).toEqual(['rule off: disabled']);
  });

  it("prints each event source's batching window in the stack's log, as it prints the rest of the delivery", () => {
    const delivery = deliveryFromConfig(AFTER, 'local');
    const windowed = {
      ...delivery,
      eventSourceMappings: delivery.eventSourceMappings.map((m) =>
        m.queue === 'svc-local-register' ? { ...m, maximumBatchingWindowSeconds: 1 } : m,
      ),
    };
    expect(describeDelivery(windowed).filter((line) => line.startsWith('queue '))).toEqual([
      'queue svc-local-register -> svc-local-register: batches of 10 gathered for up to 1 s, at most 5 at once, ReportBatchItemFailures',
      'queue svc-local-leaving -> svc-local-deregister: batches of 10, at most 10 at once',
    ]);
  });

  it('names a function resource as the framework does', () => {
    expect(['register', 'healthSweep', 'my-fn', 'a_b'].map(normalizedName)).toEqual([
      'Register',
      'HealthSweep',
      'MyDashfn',
      'AUnderscoreb',
    ]);
  });
});

describe('the delivery in the emulator', () => {
  let emulator: Emulator | undefined;
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
  });

  async function deliver(config: PrintedConfig, statuses: string[]): Promise<Map<string, BusEvent[]>> {
    emulator = await createEmulator({ port: 0, timeScale: 0.001 });
    const got = new Map<string, BusEvent[]>();
    applyDelivery(emulator, deliveryFromConfig(config, 'local'), async (name, payload): Promise<InvokeResult> => {
      got.set(name, [...(got.get(name) ?? []), ...eventsIn(payload)]);
      return { ok: true, body: '{"batchItemFailures":[]}' };
    });
    for (const status of statuses) emulator.publish(taskEvent(status));
    await emulator.idle();
    return got;
  }

  it('after issue 13: a RUNNING event reaches register and a STOPPING event deregister, each through its queue', async () => {
    const got = await deliver(AFTER, ['RUNNING', 'STOPPING']);
    expect(got.get('svc-local-register')?.map((e) => e.detail.lastStatus)).toEqual(['RUNNING']);
    expect(got.get('svc-local-deregister')?.map((e) => e.detail.lastStatus)).toEqual(['STOPPING']);
    expect(emulator?.lambdaStats().queues.find((q) => q.name === 'svc-local-register')).toMatchObject({
      sent: 1,
      deleted: 1,
    });
  });

  it('before issue 13: both reach register asynchronously', async () => {
    const got = await deliver(BEFORE, ['RUNNING', 'STOPPING']);
    expect(got.get('svc-local-register')?.map((e) => e.detail.lastStatus)).toEqual(['RUNNING', 'STOPPING']);
  });

  it('serverless.yml as osls prints it today: its task events reach a function, and every queue and function named exists', async () => {
    const file = process.env.TEST_PRINTED_CONFIG_FILE;
    if (!file) throw new Error('TEST_PRINTED_CONFIG_FILE is not set: run the tests with jest (test/global-setup.ts)');
    const config = JSON.parse(readFileSync(file, 'utf8')) as PrintedConfig;
    const delivery = deliveryFromConfig(config, 'local');
    const queues = new Set(delivery.queues.map((queue) => queue.name));
    const functions = new Set(delivery.functions.map((fn) => fn.name));
    for (const rule of delivery.rules) {
      if ('queue' in rule.target) expect(queues).toContain(rule.target.queue);
      else expect(functions).toContain(rule.target.function);
    }
    for (const mapping of delivery.eventSourceMappings) {
      expect(queues).toContain(mapping.queue);
      expect(functions).toContain(mapping.functionName);
    }
    // The register function's reservation is the deploy parameter registerMaxConcurrency (5 by default).
    expect(delivery.functions.find((fn) => fn.key === 'register')?.reservedConcurrency).toBe(5);
    for (const status of ['RUNNING', 'STOPPING']) {
      expect(delivery.rules.some((rule) => matchesEventPattern(rule.pattern, taskEvent(status)))).toBe(true);
    }
    const got = await deliver(config, ['RUNNING', 'STOPPING']);
    const delivered = [...got.values()].flat().map((event) => event.detail.lastStatus);
    expect(delivered.sort()).toEqual(['RUNNING', 'STOPPING']);
  });
});
