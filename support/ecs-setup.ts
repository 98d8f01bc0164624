import {
  type ContainerDefinition,
  CreateClusterCommand,
  type CreateServiceCommandInput,
  type ECSClient,
  RegisterTaskDefinitionCommand,
  type RunTaskCommandInput,
} from '@aws-sdk/client-ecs';
import { fargateTaskDefinition } from '../local/task-definitions';

const LOCAL_NETWORK = { awsvpcConfiguration: { subnets: ['subnet-local'] } };

/** A CreateService input for Fargate tasks in the emulator's local subnet. */
export function fargateService(
  input: Pick<CreateServiceCommandInput, 'cluster' | 'serviceName' | 'taskDefinition' | 'desiredCount'> &
    Partial<CreateServiceCommandInput>,
): CreateServiceCommandInput {
  return { launchType: 'FARGATE', networkConfiguration: LOCAL_NETWORK, ...input };
}

/** A RunTask input for one standalone Fargate task in the emulator's local subnet, named for discovery by `discoveryName`. */
export function namedFargateTask(cluster: string, taskDefinition: string, discoveryName: string): RunTaskCommandInput {
  return {
    cluster,
    taskDefinition,
    launchType: 'FARGATE',
    tags: [{ key: 'discovery:name', value: discoveryName }],
    networkConfiguration: LOCAL_NETWORK,
  };
}

/** Creates `cluster` (where given) and registers the Fargate task definition `family`: one essential nginx container named app. */
export async function registerApp(
  ecs: ECSClient,
  family: string,
  app: Partial<ContainerDefinition>,
  cluster?: string,
): Promise<void> {
  if (cluster) await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  await ecs.send(
    new RegisterTaskDefinitionCommand(
      fargateTaskDefinition(family, [{ name: 'app', image: 'nginx', essential: true, ...app }]),
    ),
  );
}
