import { DynamoDBClient, GetItemCommand, ListTablesCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ListNamespacesCommand, ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
// The SDK's own classifier, which its retry strategies use to decide a throttling back-off.
import { isThrottlingError, isTransientError } from '@smithy/core/retry';
import { createEmulator, PortInUseError } from '../../../local/emulator';
import { startDynalite } from '../../../support/dynalite';
import { type Harness, rejectionOf, startHarness, stopHarness } from './emulator-harness';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => stopHarness(h));

const post = (url: string, target: string, body: unknown = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
    body: JSON.stringify(body),
  });

describe('endpoint', () => {
  it('answers GET / with 200, as a health check', async () => {
    const response = await fetch(h.emulator.url);
    expect(response.status).toBe(200);
  });

  it('answers an unknown operation with 400 UnknownOperationException (AWS JSON 1.1 protocol errors)', async () => {
    const response = await post(h.emulator.url, 'Route53AutoNaming_v20170314.NoSuchThing');
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(await response.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });

  it('answers malformed JSON with SerializationException', async () => {
    const response = await fetch(h.emulator.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'AmazonEC2ContainerServiceV20141113.ListClusters' },
      body: '{nope',
    });
    expect(await response.json()).toMatchObject({ __type: 'SerializationException' });
  });

  it('a busy port fails with a one-line PortInUseError', async () => {
    await expect(createEmulator({ port: h.emulator.port })).rejects.toThrow(PortInUseError);
  });
});

describe('knobs', () => {
  it('each knob answers its state to GET and replaces it on POST', async () => {
    const knob = (name: string, body?: object) =>
      fetch(`${h.emulator.url}/_local/${name}`, body ? { method: 'POST', body: JSON.stringify(body) } : {}).then(
        async (r) => ({ status: r.status, body: await r.json() }),
      );
    expect((await knob('events')).body).toEqual({ deliver: true, dropped: 0 });
    expect((await knob('events', { deliver: false })).body).toEqual({ deliver: false, dropped: 0 });
    expect((await knob('faults', { throttleRate: 0.3, seed: 1 })).body).toEqual({ throttleRate: 0.3, seed: 1 });
    expect((await knob('faults', {})).body).toEqual({});
    expect((await knob('time', { scale: 0.5 })).body).toEqual({ scale: 0.5 });
    expect((await knob('dlq')).body).toEqual({ replayed: 0, entries: [] });
    expect((await knob('faults', { errorRate: 2 })).status).toBe(400);
    expect((await knob('nope')).status).toBe(404);
  });

  it('throttleRate makes Cloud Map calls fail with ThrottlingException, which the SDK retries as throttling', async () => {
    h.emulator.setFaults({ throttleRate: 1 });
    const error = await rejectionOf(h.cloudMap.send(new ListNamespacesCommand({})));
    expect(error.name).toBe('ThrottlingException');
    expect(isThrottlingError(error as never)).toBe(true);
  });

  it('errorRate 1 is an outage: every Cloud Map call is a 503; ECS is unaffected; {} clears', async () => {
    h.emulator.setFaults({ errorRate: 1 });
    const error = await rejectionOf(h.cloudMap.send(new ListNamespacesCommand({})));
    expect(error.name).toBe('ServiceUnavailableException');
    expect((error.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(503);
    expect(isTransientError(error as never)).toBe(true);
    const ecs = await post(h.emulator.url, 'AmazonEC2ContainerServiceV20141113.ListClusters');
    expect(ecs.status).toBe(200);
    h.emulator.setFaults({});
    await expect(h.cloudMap.send(new ListNamespacesCommand({}))).resolves.toBeDefined();
  });

  it('a seeded share of calls fails, the same ones for the same seed, and the SDK with retries rides it out', async () => {
    const outcomes = async () => {
      h.emulator.setFaults({ throttleRate: 0.3, errorRate: 0.1, seed: 7 });
      const results: string[] = [];
      for (let i = 0; i < 40; i++) {
        results.push(
          await h.cloudMap.send(new ListNamespacesCommand({})).then(
            () => 'ok',
            (e: Error) => e.name,
          ),
        );
      }
      return results;
    };
    const first = await outcomes();
    expect(await outcomes()).toEqual(first);
    expect(first.filter((r) => r === 'ok').length).toBeGreaterThan(15);
    expect(first.filter((r) => r !== 'ok').length).toBeGreaterThan(5);
    const patient = new ServiceDiscoveryClient({
      endpoint: h.emulator.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 10,
    });
    h.emulator.setFaults({ throttleRate: 0.3, seed: 3 });
    await expect(patient.send(new ListNamespacesCommand({}))).resolves.toBeDefined();
    patient.destroy();
  });
});

// DynamoDB's low-level API is `POST /` with `Content-Type: application/x-amz-json-1.0` and
// `X-Amz-Target: DynamoDB_20120810.<Operation>`:
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.LowLevelAPI.html
describe('DynamoDB on the same endpoint', () => {
  const key = { taskArn: { S: 'arn:aws:ecs:us-east-1:000000000000:task/kudos/abc' } };

  it('forwards every DynamoDB_20120810 call to the DynamoDB it is given, errors included', async () => {
    const dynamo = await startDynalite('tasks');
    const emulator = await createEmulator({ port: 0, dynamoDbEndpoint: dynamo.endpoint });
    const client = new DynamoDBClient({
      endpoint: emulator.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    try {
      await client.send(
        new UpdateItemCommand({
          TableName: 'tasks',
          Key: key,
          UpdateExpression: 'SET version = :v',
          ExpressionAttributeValues: { ':v': { N: '3' } },
        }),
      );
      const item = await client.send(new GetItemCommand({ TableName: 'tasks', Key: key, ConsistentRead: true }));
      expect(item.Item?.version).toEqual({ N: '3' });
      const refused = await rejectionOf(
        client.send(
          new UpdateItemCommand({
            TableName: 'tasks',
            Key: key,
            UpdateExpression: 'SET version = :v',
            ConditionExpression: 'version < :v',
            ExpressionAttributeValues: { ':v': { N: '2' } },
          }),
        ),
      );
      expect(refused.name).toBe('ConditionalCheckFailedException');
      expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual(['tasks']);
      expect(((await (await fetch(emulator.url)).json()) as { services: string[] }).services).toContain(
        'DynamoDB_20120810',
      );
    } finally {
      client.destroy();
      await emulator.close();
      await dynamo.stop();
    }
  });

  it('answers DynamoDB calls with UnknownOperationException when no DynamoDB is behind it', async () => {
    const response = await fetch(h.emulator.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.ListTables' },
      body: '{}',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });

  it('answers 503 ServiceUnavailable, and stays up, when the DynamoDB behind it does not answer', async () => {
    const dynamo = await startDynalite('tasks');
    const endpoint = dynamo.endpoint;
    await dynamo.stop();
    const emulator = await createEmulator({ port: 0, dynamoDbEndpoint: endpoint });
    try {
      const response = await fetch(emulator.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.ListTables' },
        body: '{}',
      });
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ __type: 'ServiceUnavailable' });
      expect((await fetch(emulator.url)).status).toBe(200);
    } finally {
      await emulator.close();
    }
  });
});
