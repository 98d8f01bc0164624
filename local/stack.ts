import { type AddressInfo, createServer } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreatePrivateDnsNamespaceCommand, ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import dynalite from 'dynalite';
import { applyDelivery, type Delivery } from './delivery';
import { createEmulator, type Emulator, type EventRule, type InvokeResult } from './emulator';

const HOST = '127.0.0.1';
const REGION = 'us-east-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

export interface LocalAwsOptions {
  /** The endpoint's port; 0 picks a free one (tests). */
  port: number;
  timeScale: number;
  /** The private DNS namespace to create. */
  namespace: string;
  /** The task table to create (the functions' TASK_TABLE, as serverless.yml resolves it). */
  taskTable: string;
  rules?: EventRule[];
  /**
   * The queues, functions, rules and event source mappings serverless.yml declares (local/delivery.ts), built in
   * the emulator once the stack is up; `invoke` runs a function (serverless-offline's Invoke API in `npm start`).
   */
  delivery?: { delivery: Delivery; invoke: (functionName: string, payload: unknown) => Promise<InvokeResult> };
  log?: (line: string) => void;
  /** The DNS server's port (UDP and TCP) for the private namespaces; 0 picks a free one; absent: no DNS. */
  dnsPort?: number;
}

/** The AWS side of the local stack: one endpoint, with the namespace and the task table in place. */
export interface LocalAws {
  emulator: Emulator;
  stop(): Promise<void>;
}

/** dynalite (in-memory DynamoDB) on a port of the OS's choosing: only the emulator talks to it. */
async function startDynalite(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, HOST, () => resolve()));
  return {
    url: `http://${HOST}:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Creates the namespace and the task table through the endpoint itself, as any SDK user would. */
async function provision(url: string, options: LocalAwsOptions): Promise<void> {
  const dynamo = new DynamoDBClient({ endpoint: url, region: REGION, credentials });
  const cloudMap = new ServiceDiscoveryClient({ endpoint: url, region: REGION, credentials });
  try {
    await dynamo.send(
      new CreateTableCommand({
        TableName: options.taskTable,
        KeySchema: [{ AttributeName: 'taskArn', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'taskArn', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    // A private DNS namespace, as in AWS: DiscoverInstances finds it by its name (its HttpName).
    await cloudMap.send(new CreatePrivateDnsNamespaceCommand({ Name: options.namespace, Vpc: 'vpc-local' }));
  } finally {
    dynamo.destroy();
    cloudMap.destroy();
  }
}

/** The first address the emulator hands to a task (127.<LOCAL_ADDRESS_OCTET or 10>.0.4): what live tasks bind. */
function taskAddressProbe(): string {
  return `127.${process.env.LOCAL_ADDRESS_OCTET || 10}.0.4`;
}

/**
 * Whether this system can listen on `address` (a task's loopback address). Linux routes all of 127.0.0.0/8 to
 * loopback; macOS has only 127.0.0.1 unless aliased, and there every live task would fail to bind, be replaced and
 * fail again: the local stack then runs without live tasks, saying why, rather than loop.
 */
export function loopbackRangeUsable(address: string): Promise<{ usable: true } | { usable: false; reason: string }> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      resolve({ usable: false, reason: `${address} cannot be listened on (${error.code ?? error.message})` }),
    );
    probe.listen(0, address, () => probe.close(() => resolve({ usable: true })));
  });
}

/**
 * Starts the emulator (ECS, Cloud Map, EventBridge, EC2, SQS, Lambda's delivery) on 127.0.0.1 with dynalite
 * behind it for DynamoDB, so that one endpoint serves every AWS call of the functions and of `registrar`; then
 * creates the namespace, the task table and the delivery. `npm start` runs this, and so does the test of the
 * README's commands.
 */
export async function startLocalAws(options: LocalAwsOptions): Promise<LocalAws> {
  const live = await loopbackRangeUsable(taskAddressProbe());
  if (!live.usable) {
    (options.log ?? console.warn)(
      `live tasks are off: ${live.reason} (tasks take addresses in 127.0.0.0/8, all loopback on Linux; elsewhere only 127.0.0.1 is, unless aliased)`,
    );
  }
  const dynamo = await startDynalite();
  let emulator: Emulator;
  try {
    emulator = await createEmulator({
      port: options.port,
      timeScale: options.timeScale,
      dynamoDbEndpoint: dynamo.url,
      // Tasks are live: each RUNNING task's port mappings answer HTTP on its 127.x address.
      liveTasks: live.usable,
      ...(options.dnsPort !== undefined ? { dnsPort: options.dnsPort } : {}),
      ...(options.rules ? { rules: options.rules } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
  } catch (error) {
    await dynamo.close();
    throw error;
  }
  const stop = async () => {
    await Promise.allSettled([emulator.close(), dynamo.close()]);
  };
  try {
    await provision(emulator.url, options);
    if (options.delivery) applyDelivery(emulator, options.delivery.delivery, options.delivery.invoke);
    await emulator.idle();
  } catch (error) {
    await stop();
    throw error;
  }
  return { emulator, stop };
}
