import type { ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import * as z from 'zod/mini';
import type { ServiceCreatorConfig } from '../config';
import { NamespaceNotFoundError, ServiceNotManagedError } from '../errors';
import type { DnsRecordSet, NamespaceInfo } from '../ports';
import { isValidServiceName } from './limits';
import { isNamespaceId, NamespaceResolver } from './namespaces';
import { DirectServiceCreator, type ServiceCreator } from './service-creator';

/**
 * The contract between the writers (LambdaServiceCreator) and the createService function: what a writer asks for,
 * and what the function answers. An AWS failure is not an answer: the function throws, the writer sees a
 * FunctionError and throws in turn, so the task event (or reconcile item) is retried.
 */
export interface CreateServiceRequest {
  namespaceId: string;
  name: string;
  dnsRecords: DnsRecordSet;
  ttlSeconds: number;
}

/** Reasons the function answers instead of a service; `service-not-managed` is ServiceNotManagedError's code. */
export type CreateServiceRefusal = 'service-not-managed' | 'invalid-request' | 'namespace-not-allowed';

export type CreateServiceAnswer =
  | { service: { id: string; arn?: string; name: string; namespaceId: string } }
  | { error: CreateServiceRefusal; message: string };

const DNS_RECORD_SETS = ['A', 'AAAA', 'A+AAAA', 'SRV', 'none'] as const;

// Built on first use: the writers' bundles import the types of this module, never the schema.
const requestSchema = () =>
  z.object({
    namespaceId: z.string().check(z.refine(isNamespaceId, 'expected a namespace id (ns-...)')),
    name: z.string().check(z.refine(isValidServiceName, 'expected a Cloud Map service name (one DNS label)')),
    dnsRecords: z.enum(DNS_RECORD_SETS),
    ttlSeconds: z.number().check(z.int(), z.gte(0), z.lte(2_147_483_647)),
  });

export interface CreateServiceDeps {
  creator: ServiceCreator;
  /** The namespace of that id when it is one the registrar is configured to write to; undefined otherwise. */
  allowedNamespace(namespaceId: string): Promise<NamespaceInfo | undefined>;
}

/**
 * Answers one request of the createService function: validates it (a bad request is answered, never thrown: a
 * retry would be as bad), refuses a namespace outside the configuration (the writers cannot widen what the creator
 * creates), and creates the service with the managed-by tag, or answers `service-not-managed` when the name is
 * taken by a service without it.
 */
export async function answerCreateService(input: unknown, deps: CreateServiceDeps): Promise<CreateServiceAnswer> {
  const parsed = requestSchema().safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'request'}: ${issue.message}`);
    return { error: 'invalid-request', message: `invalid createService request: ${problems.join('; ')}` };
  }
  const { namespaceId, name, dnsRecords, ttlSeconds } = parsed.data;
  const namespace = await deps.allowedNamespace(namespaceId);
  if (!namespace) {
    return {
      error: 'namespace-not-allowed',
      message: `namespace ${namespaceId} is not one the registrar is configured to write to (NAMESPACE, CLUSTER_NAMESPACES)`,
    };
  }
  try {
    const service = await deps.creator.create(namespace, { name, dnsRecords, ttlSeconds });
    return {
      service: {
        id: service.id,
        name: service.name,
        namespaceId: service.namespaceId,
        ...(service.arn ? { arn: service.arn } : {}),
      },
    };
  } catch (error) {
    if (error instanceof ServiceNotManagedError) return { error: 'service-not-managed', message: error.message };
    throw error;
  }
}

/**
 * The configured namespaces (by name, id or ARN), each resolved once per container: a namespace that does not
 * exist is left out (and looked up again on the next request), any other failure is thrown.
 */
export function configuredNamespaces(
  refs: string[],
  resolve: (ref: string) => Promise<NamespaceInfo>,
): (namespaceId: string) => Promise<NamespaceInfo | undefined> {
  return async (namespaceId) => {
    for (const ref of refs) {
      try {
        const namespace = await resolve(ref);
        if (namespace.id === namespaceId) return namespace;
      } catch (error) {
        if (!(error instanceof NamespaceNotFoundError)) throw error;
      }
    }
    return undefined;
  };
}

/** Builds the createService function's dependencies once per container. */
export function createServiceCreatorDeps(
  config: ServiceCreatorConfig,
  client: ServiceDiscoveryClient,
): CreateServiceDeps {
  const resolver = new NamespaceResolver(client);
  return {
    creator: new DirectServiceCreator(client, config.ownerId),
    allowedNamespace: configuredNamespaces(config.namespaces, (ref) => resolver.resolve(ref)),
  };
}
