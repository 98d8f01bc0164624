import { CreateServiceCommand } from '@aws-sdk/client-ecs';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  ListInstancesCommand,
  ListServicesCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-servicediscovery';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { fargateService } from '../../support/ecs-setup';
import { startPipeline } from '../../support/pipeline';
import { KUDOS_CLUSTER, withKudosApi } from '../helpers/pipeline-hooks';

/**
 * Deployed, the writers may not create or tag a Cloud Map service: they invoke the createService function
 * (SERVICE_CREATOR_FUNCTION). Here the real register handler runs against the emulator with that setting, and the
 * real createService handler answers its Invoke in-process, behind a fake Lambda client.
 */
const FUNCTION = 'ecs-cloudmap-registrar-test-createService';
process.env.SERVICE_CREATOR_FUNCTION = FUNCTION;
const lambda = mockClient(LambdaClient);
let pipeline: Awaited<ReturnType<typeof startPipeline>>;
const cluster = KUDOS_CLUSTER;
const invoked: unknown[] = [];

beforeAll(async () => {
  pipeline = await startPipeline();
  // Required once the environment is set: it reads NAMESPACE and OWNER_ID at cold start.
  const { handler } = require('../../functions/create-service') as typeof import('../../functions/create-service');
  const context = { functionName: FUNCTION, awsRequestId: 'creator', getRemainingTimeInMillis: () => 20_000 };
  lambda.on(InvokeCommand).callsFake(async (input: { FunctionName: string; Payload: Uint8Array }) => {
    expect(input.FunctionName).toBe(FUNCTION);
    const request = JSON.parse(new TextDecoder().decode(input.Payload)) as unknown;
    invoked.push(request);
    const answer = await handler(request, context as unknown as Context);
    return { StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify(answer)) };
  });
  await withKudosApi(pipeline);
});

afterAll(async () => {
  await pipeline.stop();
  lambda.restore();
  delete process.env.SERVICE_CREATOR_FUNCTION;
});

describe('the register function with the createService function', () => {
  it('has the service created once by the creator, tagged managed-by, then registers every task in it', async () => {
    const { cloudMap, ecs, emulator, outcomes } = pipeline;

    await ecs.send(
      new CreateServiceCommand(fargateService({ cluster, serviceName: 'api', taskDefinition: 'api', desiredCount: 3 })),
    );
    await emulator.idle();

    expect(outcomes.filter((o) => (o as { result?: string }).result === 'registered')).toHaveLength(3);
    // One container, one creation: concurrent events share it.
    expect(invoked).toEqual([expect.objectContaining({ name: 'api', dnsRecords: 'A', ttlSeconds: 10 })]);
    const services = (await cloudMap.send(new ListServicesCommand({}))).Services ?? [];
    const api = services.find((s) => s.Name === 'api');
    expect((await cloudMap.send(new ListTagsForResourceCommand({ ResourceARN: api?.Arn }))).Tags).toEqual([
      { Key: 'managed-by', Value: 'ecs-cloudmap-registrar' },
    ]);
    expect((await cloudMap.send(new ListInstancesCommand({ ServiceId: api?.Id }))).Instances).toHaveLength(3);
    expect(emulator.deadLetters()).toEqual([]);
  });
});
