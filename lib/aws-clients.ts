import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';

/**
 * SDK clients, built once per container and injected into the adapters.
 *
 * Adaptive retry backs off on Cloud Map's and ECS's throttling. With a custom endpoint
 * (`AWS_ENDPOINT_URL_SERVICEDISCOVERY`, the local stack or another emulator) DiscoverInstances would
 * prepend the `data-` host prefix, so the prefix is disabled there.
 */
export interface AwsClientOptions {
  region?: string;
  /** Fixed credentials (the operator's command against a local emulator); otherwise the SDK's default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** One endpoint for every service (the local stack); otherwise the SDK's own resolution applies. */
  endpoint?: string;
  maxAttempts?: number;
}

function customEndpoint(
  service: 'SERVICEDISCOVERY' | 'ECS' | 'DYNAMODB',
  options: AwsClientOptions,
): string | undefined {
  return options.endpoint ?? process.env[`AWS_ENDPOINT_URL_${service}`] ?? process.env.AWS_ENDPOINT_URL;
}

export function createServiceDiscoveryClient(options: AwsClientOptions = {}): ServiceDiscoveryClient {
  const endpoint = customEndpoint('SERVICEDISCOVERY', options);
  return new ServiceDiscoveryClient({
    region: options.region,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? 5,
    ...(endpoint ? { endpoint, disableHostPrefix: true } : {}),
  });
}

export function createEcsClient(options: AwsClientOptions = {}): ECSClient {
  const endpoint = customEndpoint('ECS', options);
  return new ECSClient({
    region: options.region,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? 5,
    ...(endpoint ? { endpoint } : {}),
  });
}

export function createDynamoDbClient(options: AwsClientOptions = {}): DynamoDBClient {
  const endpoint = customEndpoint('DYNAMODB', options);
  return new DynamoDBClient({
    region: options.region,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? 5,
    ...(endpoint ? { endpoint } : {}),
  });
}
