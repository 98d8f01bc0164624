import type { Context } from 'aws-lambda';
import type { RegistrarConfig } from '../../lib/config';
import { MemoryRegistry, MemoryTaskSource, MemoryVersionStore } from '../../support/memory-adapters';

/** The environment of a scheduled handler's test (reconcile, health sweep): set it before requiring the handler. */
export const SCHEDULED_ENV = { NAMESPACE: 'kudos.local', TASK_TABLE: 'tasks', WATCHED_CLUSTERS: 'dev-ecs-public' };

/** A Lambda context for a handler test: this function name, with this many milliseconds left. */
export function lambdaContext(functionName: string, remainingMs: number): Context {
  return { functionName, awsRequestId: 'req-1', getRemainingTimeInMillis: () => remainingMs } as unknown as Context;
}

/** The memory adapters a scheduled handler gets from {@link memoryRuntime} (one set per test file). */
export const memoryAdapters = {
  registry: new MemoryRegistry(),
  tasks: new MemoryTaskSource(),
  versions: new MemoryVersionStore(),
};

/**
 * A stand-in for lib/registrar-runtime, for `jest.mock`: the handler builds its adapters at cold start and gets
 * {@link memoryAdapters} with its own configuration.
 */
export function memoryRuntime() {
  return { createRegistrarDeps: (config: RegistrarConfig) => ({ ...memoryAdapters, settings: config }) };
}

/** What this promise rejects with, or undefined when it resolves. */
export function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  );
}
