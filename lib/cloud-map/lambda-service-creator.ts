import type { LambdaClient } from '@aws-sdk/client-lambda';
import { awsClientConfig } from '../aws-clients';
import { RegistrarError, ServiceNotManagedError } from '../errors';
import type { NamespaceInfo, ServiceInfo, ServiceSpec } from '../ports';
import type { CreateServiceAnswer, CreateServiceRequest } from './create-service-request';
import type { ServiceCreator } from './service-creator';

type LambdaSdk = typeof import('@aws-sdk/client-lambda');

/**
 * The createService function failed (an AWS error, a crash, a timeout) or answered something else than a service
 * or a refusal it may give. Thrown so that the event is retried, as any AWS failure is.
 */
export class ServiceCreationFailedError extends RegistrarError {
  constructor(functionName: string, detail: string, options?: ErrorOptions) {
    super('service-creation-failed', `the service creator function ${functionName} failed: ${detail}`, options);
  }
}

export interface LambdaServiceCreatorOptions {
  /** The managed-by value (for the ServiceNotManagedError it throws). */
  ownerId: string;
  region?: string;
  /** The Lambda endpoint (AWS_ENDPOINT_URL_LAMBDA: the local stack's serverless-offline); otherwise the SDK's own. */
  endpoint?: string;
  /** Loads the Lambda SDK; injectable for tests. */
  load?: () => Promise<LambdaSdk>;
}

/**
 * The ServiceCreator adapter of the writers in Lambda: a synchronous Invoke (RequestResponse) of the createService
 * function, the only role that may create and tag services. Its refusal `service-not-managed` becomes
 * ServiceNotManagedError (skipped, never retried); a FunctionError or any other answer becomes
 * ServiceCreationFailedError (thrown, retried). The Lambda client is loaded on the first creation only, from the
 * runtime's own AWS SDK (the bundles leave it out): a cold start that finds its services never pays for it.
 */
export class LambdaServiceCreator implements ServiceCreator {
  private loaded: Promise<{ sdk: LambdaSdk; client: LambdaClient }> | undefined;

  constructor(
    private readonly functionName: string,
    private readonly options: LambdaServiceCreatorOptions,
  ) {}

  async create(namespace: NamespaceInfo, spec: ServiceSpec): Promise<ServiceInfo> {
    const { sdk, client } = await this.client();
    const request: CreateServiceRequest = {
      namespaceId: namespace.id,
      name: spec.name,
      dnsRecords: spec.dnsRecords,
      ttlSeconds: spec.ttlSeconds,
    };
    // Invoke: FunctionError is set ("Handled" or "Unhandled") when the function threw, timed out or ran out of
    // memory, and the payload then holds the error (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html).
    const out = await client.send(
      new sdk.InvokeCommand({
        FunctionName: this.functionName,
        InvocationType: 'RequestResponse',
        Payload: new TextEncoder().encode(JSON.stringify(request)),
      }),
    );
    const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
    if (out.FunctionError) throw new ServiceCreationFailedError(this.functionName, `${out.FunctionError}: ${text}`);
    const answer = parseAnswer(text);
    if (answer && 'error' in answer) {
      if (answer.error === 'service-not-managed') {
        throw new ServiceNotManagedError(namespace.name, spec.name, this.options.ownerId);
      }
      throw new ServiceCreationFailedError(this.functionName, `${answer.error}: ${answer.message}`);
    }
    const service = answer?.service;
    if (
      !service?.id ||
      service.namespaceId !== namespace.id ||
      service.name.toLowerCase() !== spec.name.toLowerCase()
    ) {
      throw new ServiceCreationFailedError(this.functionName, `unexpected answer ${text.slice(0, 200)}`);
    }
    return {
      id: service.id,
      name: service.name,
      namespaceId: service.namespaceId,
      ...(service.arn ? { arn: service.arn } : {}),
    };
  }

  private client(): Promise<{ sdk: LambdaSdk; client: LambdaClient }> {
    this.loaded ??= (this.options.load ?? (() => import('@aws-sdk/client-lambda')))().then((sdk) => ({
      sdk,
      client: new sdk.LambdaClient(
        awsClientConfig('LAMBDA', { endpoint: this.options.endpoint, region: this.options.region, maxAttempts: 3 }),
      ),
    }));
    // A failed load is tried again on the next creation.
    this.loaded.catch(() => {
      this.loaded = undefined;
    });
    return this.loaded;
  }
}

/** The function's answer, or undefined when it is not JSON of the expected shape. */
function parseAnswer(text: string): CreateServiceAnswer | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null) return undefined;
    const answer = value as Partial<{ service: unknown; error: unknown; message: unknown }>;
    if (typeof answer.error === 'string') {
      return { error: answer.error, message: String(answer.message ?? '') } as CreateServiceAnswer;
    }
    const service = answer.service as Record<string, unknown> | undefined;
    if (
      typeof service?.id === 'string' &&
      typeof service.name === 'string' &&
      typeof service.namespaceId === 'string' &&
      (service.arn === undefined || typeof service.arn === 'string')
    ) {
      return { service: service as { id: string; arn?: string; name: string; namespaceId: string } };
    }
    return undefined;
  } catch {
    return undefined;
  }
}
