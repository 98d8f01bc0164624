import { CreateClusterCommand, ECSClient, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import {
  DiscoverInstancesCommand,
  GetServiceCommand,
  ListServicesCommand,
  type ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery';
import { createServiceDiscoveryClient } from '../../lib/aws-clients';
import { answerCreateService, createServiceCreatorDeps } from '../../lib/cloud-map/create-service-request';
import { loadLookupConfig, loadRegistrarConfig, loadServiceCreatorConfig } from '../../lib/config';
import { createCloudMapLookupApp } from '../../lib/lookup/lookup-app';
import type { Outcome } from '../../lib/registrar';
import { createRegistrarDeps, runRegistration } from '../../lib/registrar-runtime';
import { createEmulator, type Emulator } from '../../local/emulator';
import { startDynalite } from '../../support/dynalite';
import { namedFargateTask, registerApp } from '../../support/ecs-setup';
import { registerPattern } from '../../support/pipeline';

/**
 * A Cloud Map namespace shared with this account by another one (AWS RAM), given by its ARN, end to end on the
 * emulator with the real SDK: ECS task events through the deployed rule pattern to the register function's code,
 * which creates the service in the shared namespace (by its ARN) and registers the task (by the service ARN,
 * following the operation with OwnerAccount); the createService function's code creates services there too; the
 * lookup discovers with OwnerAccount. The documentation each step relies on:
 * - https://docs.aws.amazon.com/cloud-map/latest/dg/sharing-namespaces.html (consumers use shared namespaces)
 * - https://docs.aws.amazon.com/cloud-map/latest/dg/sharing-identify.html (ResourceOwner, CreatedByAccount)
 * - https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateService.html (namespace ARN for a shared namespace)
 * - https://docs.aws.amazon.com/cloud-map/latest/api/API_RegisterInstance.html (service ARN in a shared namespace)
 * - https://docs.aws.amazon.com/cloud-map/latest/api/API_GetOperation.html (OwnerAccount for its operations)
 * - https://docs.aws.amazon.com/cloud-map/latest/api/API_DiscoverInstances.html (OwnerAccount to discover)
 */
const OWNER = '111122223333';
const SELF = '000000000000';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
let emulator: Emulator;
let dynamo: Awaited<ReturnType<typeof startDynalite>>;
let cloudMap: ServiceDiscoveryClient;
let shared: { Id: string; Arn: string };
const outcomes: Outcome[] = [];

beforeAll(async () => {
  dynamo = await startDynalite('registrar-tasks-shared');
  emulator = await createEmulator({ port: 0, timeScale: 0.002 });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SERVICEDISCOVERY: emulator.url,
    AWS_ENDPOINT_URL_ECS: emulator.url,
    AWS_ENDPOINT_URL_EC2: emulator.url,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
  });
  cloudMap = createServiceDiscoveryClient({ endpoint: emulator.url, region: 'us-east-1' });
  shared = emulator.shareNamespace({ ownerAccount: OWNER, name: 'shared.local', type: 'DNS_PRIVATE' });
});

afterAll(async () => {
  cloudMap.destroy();
  await emulator.close();
  await dynamo.stop();
});

const env = () => ({
  ...process.env,
  NAMESPACE: shared.Arn,
  LOOKUP_NAMESPACES: 'shared.local',
  TASK_TABLE: dynamo.tableName,
  OPERATION_TIMEOUT_MS: '10000',
});

describe('a namespace shared from another account, given by ARN', () => {
  it('takes the registrar’s service and task: service owned by the owner, created by this account', async () => {
    const deps = createRegistrarDeps(loadRegistrarConfig(env()));
    emulator.addRule({
      name: 'register',
      pattern: registerPattern(),
      target: async (event) => {
        outcomes.push(await runRegistration(event, deps));
      },
    });
    const ecs = new ECSClient({ endpoint: emulator.url, region: 'us-east-1', credentials });
    await registerApp(ecs, 'batch', { portMappings: [{ containerPort: 80 }] });
    await ecs.send(new CreateClusterCommand({ clusterName: 'blue' }));
    await ecs.send(new RunTaskCommand(namedFargateTask('blue', 'batch', 'batch')));
    await emulator.idle();
    ecs.destroy();

    expect(outcomes).not.toContainEqual(expect.objectContaining({ result: 'skipped' }));
    const { Services } = await cloudMap.send(
      new ListServicesCommand({ Filters: [{ Name: 'NAMESPACE_ID', Values: [shared.Arn], Condition: 'EQ' }] }),
    );
    expect(Services).toEqual([
      expect.objectContaining({ Name: 'batch', ResourceOwner: OWNER, CreatedByAccount: SELF }),
    ]);
    expect(Services?.[0]?.Arn).toContain(`:${OWNER}:service/`);
    const found = await cloudMap.send(
      new DiscoverInstancesCommand({ NamespaceName: 'shared.local', ServiceName: 'batch', OwnerAccount: OWNER }),
    );
    expect(found.Instances).toHaveLength(1);
    expect(emulator.deadLetters()).toEqual([]);
  });

  it('answers lookups from it (OwnerAccount on DiscoverInstances), by default and by name', async () => {
    const app = createCloudMapLookupApp(loadLookupConfig(env()), cloudMap);
    const get = async (path: string) => {
      const response = await app.answer({ method: 'GET', path, query: [], headers: {} });
      return { status: response.statusCode, json: JSON.parse(response.body) };
    };

    const byDefault = await get('/services/batch');
    const byName = await get('/namespaces/shared.local/services/batch');
    const list = await get('/services');

    expect(byDefault.status).toBe(200);
    expect(byDefault.json.instances).toHaveLength(1);
    expect(byName.json.instances).toEqual(byDefault.json.instances);
    expect(list.json.services).toEqual([{ name: 'batch', instances: 1 }]);
  });

  it('deregisters a stopped task from it (the operation followed with OwnerAccount)', async () => {
    const ecs = new ECSClient({ endpoint: emulator.url, region: 'us-east-1', credentials });
    const found = await cloudMap.send(
      new DiscoverInstancesCommand({ NamespaceName: 'shared.local', ServiceName: 'batch', OwnerAccount: OWNER }),
    );
    const taskArn = found.Instances?.[0]?.Attributes?.ECS_TASK_ARN;
    expect(taskArn).toBeDefined();
    await ecs.send(new StopTaskCommand({ cluster: 'blue', task: taskArn }));
    await emulator.idle();
    ecs.destroy();

    const after = await cloudMap.send(
      new DiscoverInstancesCommand({ NamespaceName: 'shared.local', ServiceName: 'batch', OwnerAccount: OWNER }),
    );
    expect(after.Instances).toEqual([]);
    expect(outcomes).toContainEqual(expect.objectContaining({ result: 'deregistered', service: 'batch' }));
    expect(emulator.deadLetters()).toEqual([]);
  });

  it("creates services in it through the createService function's code, which names the namespace by its id", async () => {
    const deps = createServiceCreatorDeps(loadServiceCreatorConfig(env()), cloudMap);

    const answer = await answerCreateService(
      { namespaceId: shared.Id, name: 'created', dnsRecords: 'A', ttlSeconds: 10 },
      deps,
    );

    expect(answer).toEqual({
      service: expect.objectContaining({ name: 'created', namespaceId: shared.Id }),
    });
    const arn = 'service' in answer ? answer.service.arn : undefined;
    expect(arn).toContain(`:${OWNER}:service/`);
    const { Service } = await cloudMap.send(new GetServiceCommand({ Id: arn }));
    expect(Service).toMatchObject({ ResourceOwner: OWNER, CreatedByAccount: SELF });
  });
});
