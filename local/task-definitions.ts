import type { ContainerDefinition, RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';

/**
 * A Fargate task definition as the local stack, the tests and the bench register it: awsvpc networking,
 * the smallest Fargate size (0.25 vCPU, 512 MiB), and the given containers.
 */
export function fargateTaskDefinition(
  family: string,
  containerDefinitions: ContainerDefinition[],
): RegisterTaskDefinitionCommandInput {
  return {
    family,
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '256',
    memory: '512',
    containerDefinitions,
  };
}
