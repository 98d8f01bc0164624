import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * SDK clients, built once per container and injected into the adapters. Every AWS client of the project is
 * configured here: `awsEndpointConfig` holds the endpoint rule, `awsClientConfig` adds the functions' retry policy.
 * The EC2 and Lambda clients are built where their SDK is loaded on first use (the bundles leave it out).
 */
export interface AwsClientOptions {
  region?: string;
  /** Fixed credentials (the operator's command against a local emulator); otherwise the SDK's default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** One endpoint for every service (the local stack); otherwise the SDK's own resolution applies. */
  endpoint?: string;
  /** Attempts per call, the first included: 5 unless said. */
  maxAttempts?: number;
}

/** The services the project calls, as their `AWS_ENDPOINT_URL_<SERVICE>` variable names them. */
export type AwsService = 'SERVICEDISCOVERY' | 'ECS' | 'DYNAMODB' | 'EC2' | 'LAMBDA' | 'SQS' | 'CLOUDFORMATION';

/** Where a client sends its calls, and as whom. */
export interface AwsEndpointConfig {
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  endpoint?: string;
  disableHostPrefix?: boolean;
}

/** What `awsClientConfig` gives a function's client. */
export interface AwsClientConfig extends AwsEndpointConfig {
  retryMode: 'adaptive';
  maxAttempts: number;
}

/**
 * The endpoint rule: `options.endpoint`, else `AWS_ENDPOINT_URL_<SERVICE>`, else `AWS_ENDPOINT_URL`, else the SDK's
 * own resolution. A custom endpoint (the local stack or another emulator) gets no host prefix: DiscoverInstances
 * would otherwise prepend `data-` to its host (no other call the project makes has one).
 */
export function awsEndpointConfig(service: AwsService, options: AwsClientOptions = {}): AwsEndpointConfig {
  const endpoint = options.endpoint ?? process.env[`AWS_ENDPOINT_URL_${service}`] ?? process.env.AWS_ENDPOINT_URL;
  return {
    region: options.region,
    // A copy per client: the SDK marks the object it is given.
    ...(options.credentials ? { credentials: { ...options.credentials } } : {}),
    ...(endpoint ? { endpoint, disableHostPrefix: true } : {}),
  };
}

/** A function's client: the endpoint rule, and adaptive retry (it backs off on Cloud Map's and ECS's throttling). */
export function awsClientConfig(service: AwsService, options: AwsClientOptions = {}): AwsClientConfig {
  return { ...awsEndpointConfig(service, options), retryMode: 'adaptive', maxAttempts: options.maxAttempts ?? 5 };
}

export function createServiceDiscoveryClient(options: AwsClientOptions = {}): ServiceDiscoveryClient {
  return new ServiceDiscoveryClient(awsClientConfig('SERVICEDISCOVERY', options));
}

export function createEcsClient(options: AwsClientOptions = {}): ECSClient {
  return new ECSClient(awsClientConfig('ECS', options));
}

export function createDynamoDbClient(options: AwsClientOptions = {}): DynamoDBClient {
  return new DynamoDBClient(awsClientConfig('DYNAMODB', options));
}

export function createSqsClient(options: AwsClientOptions = {}): SQSClient {
  return new SQSClient(awsClientConfig('SQS', options));
}
