import { CreateClusterCommand, ECSClient, RunTaskCommand } from '@aws-sdk/client-ecs';
import {
  CreatePrivateDnsNamespaceCommand,
  DiscoverInstancesCommand,
  GetNamespaceCommand,
  GetOperationCommand,
} from '@aws-sdk/client-servicediscovery';
import { createServiceDiscoveryClient } from '../../lib/aws-clients';
import { loadRegistrarConfig } from '../../lib/config';
import type { Outcome } from '../../lib/registrar';
import { createRegistrarDeps, runRegistration } from '../../lib/registrar-runtime';
import { createEmulator, type Emulator } from '../../local/emulator';
import { startDynalite } from '../../support/dynalite';
import { namedFargateTask, registerApp } from '../../support/ecs-setup';
import { registerPattern } from '../../support/pipeline';

/**
 * Namespace references as Cloud Map defines them, end to end: an endpoint whose ids are `ns-` + 20 characters
 * (as other AWS-compatible endpoints hand them out; the API reference fixes no length), NAMESPACE given by that
 * id and a cluster's namespace given by its ARN (GetNamespace takes either:
 * https://docs.aws.amazon.com/cloud-map/latest/api/API_GetNamespace.html). ECS task events go through the
 * deployed rule pattern to the register function's code, which talks to the emulator over the real SDK.
 */
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
let emulator: Emulator;
let dynamo: Awaited<ReturnType<typeof startDynalite>>;
const outcomes: Outcome[] = [];

async function privateNamespace(name: string): Promise<{ id: string; arn: string }> {
  const cloudMap = createServiceDiscoveryClient({ endpoint: emulator.url, region: 'us-east-1' });
  const { OperationId } = await cloudMap.send(new CreatePrivateDnsNamespaceCommand({ Name: name, Vpc: 'vpc-local' }));
  const { Operation } = await cloudMap.send(new GetOperationCommand({ OperationId }));
  const { Namespace } = await cloudMap.send(new GetNamespaceCommand({ Id: Operation?.Targets?.NAMESPACE }));
  cloudMap.destroy();
  return { id: Namespace?.Id ?? '', arn: Namespace?.Arn ?? '' };
}

beforeAll(async () => {
  dynamo = await startDynalite('registrar-tasks-refs');
  emulator = await createEmulator({ port: 0, timeScale: 0.002, cloudMapIdLength: 20 });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SERVICEDISCOVERY: emulator.url,
    AWS_ENDPOINT_URL_ECS: emulator.url,
    AWS_ENDPOINT_URL_EC2: emulator.url,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
  });
});

afterAll(async () => {
  await emulator.close();
  await dynamo.stop();
});

describe('namespaces given by an id of 20 characters and by ARN', () => {
  it('registers tasks in the namespace named by id and in the cluster namespace named by ARN', async () => {
    const kudos = await privateNamespace('kudos.local');
    const green = await privateNamespace('green.local');
    expect(kudos.id).toMatch(/^ns-[a-z0-9]{20}$/);
    const deps = createRegistrarDeps(
      loadRegistrarConfig({
        ...process.env,
        NAMESPACE: kudos.id,
        CLUSTER_NAMESPACES: `green=${green.arn}`,
        TASK_TABLE: dynamo.tableName,
        OPERATION_TIMEOUT_MS: '10000',
      }),
    );
    emulator.addRule({
      name: 'register',
      pattern: registerPattern(),
      target: async (event) => {
        outcomes.push(await runRegistration(event, deps));
      },
    });
    const ecs = new ECSClient({ endpoint: emulator.url, region: 'us-east-1', credentials });
    await registerApp(ecs, 'batch', { portMappings: [{ containerPort: 80 }] });
    for (const cluster of ['blue', 'green']) {
      await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
      await ecs.send(new RunTaskCommand(namedFargateTask(cluster, 'batch', 'batch')));
    }
    await emulator.idle();
    ecs.destroy();

    expect(outcomes).not.toContainEqual(expect.objectContaining({ result: 'skipped' }));
    const cloudMap = createServiceDiscoveryClient({ endpoint: emulator.url, region: 'us-east-1' });
    for (const namespace of ['kudos.local', 'green.local']) {
      const found = await cloudMap.send(
        new DiscoverInstancesCommand({ NamespaceName: namespace, ServiceName: 'batch' }),
      );
      expect(found.Instances).toHaveLength(1);
    }
    cloudMap.destroy();
    expect(emulator.deadLetters()).toEqual([]);
  });
});
