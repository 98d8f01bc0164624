import { MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  type AwsClientOptions,
  createDynamoDbClient,
  createEcsClient,
  createServiceDiscoveryClient,
  createSqsClient,
} from './aws-clients';
import { CloudMapRegistry } from './cloud-map/cloud-map-registry';
import { LambdaServiceCreator } from './cloud-map/lambda-service-creator';
import type { RegistrarConfig } from './config';
import { DynamoDbVersionStore } from './dynamodb/dynamodb-version-store';
import { EcsTaskSource } from './ecs/ecs-task-source';
import { logger, metrics } from './observability';
import {
  confirmRegistration,
  handleTaskEvent,
  type Outcome,
  type PendingConfirm,
  type RegistrarDeps,
} from './registrar';
import { SqsRecheckQueue } from './sqs/recheck-queue';
import type { TaskQueueDeps } from './task-queue';

export interface RegistrarDepsOptions {
  /** Region, credentials and endpoint of the ECS, Cloud Map and DynamoDB clients (the CLI's `--endpoint`). */
  clients?: AwsClientOptions;
}

/**
 * Builds the adapters of the register, reconcile and health-sweep functions (and of `registrar reconcile`) once
 * per container, from validated configuration. With SERVICE_CREATOR_FUNCTION (deployed), missing services are
 * created by that function, as these roles may not create or tag one; without it (tests, the emulator, the CLI),
 * in-process. The clients follow the environment unless `options.clients` say otherwise.
 */
export function createRegistrarDeps(config: RegistrarConfig, options: RegistrarDepsOptions = {}): RegistrarDeps {
  const clients = options.clients ?? {};
  return {
    registry: new CloudMapRegistry(createServiceDiscoveryClient(clients), {
      ownerId: config.ownerId,
      operationTimeoutMs: config.operationTimeoutMs,
      ...(config.serviceCreatorFunction
        ? { creator: new LambdaServiceCreator(config.serviceCreatorFunction, { ownerId: config.ownerId }) }
        : {}),
    }),
    tasks: new EcsTaskSource(createEcsClient(clients), { serviceTagsTtlMs: config.serviceTagsTtlMs }),
    versions: new DynamoDbVersionStore(createDynamoDbClient(clients), config.taskTable),
    settings: config,
  };
}

/** The register and deregister functions' adapters: the writers', plus the function's own queue for re-checks. */
export function createTaskQueueDeps(config: RegistrarConfig): TaskQueueDeps {
  return {
    ...createRegistrarDeps(config),
    ...(config.recheckQueueName ? { recheck: new SqsRecheckQueue(createSqsClient(), config.recheckQueueName) } : {}),
  };
}

/** Logs and counts what became of an event (one structured line per event). */
export function recordOutcome(outcome: Outcome): void {
  switch (outcome.result) {
    case 'registered':
    case 'deregistered': {
      const action = outcome.result === 'registered' ? 'register' : 'deregister';
      // `service` is a reserved key of the logger (the function's own name): the Cloud Map one gets its own.
      // A pending registration's operations, not the whole confirmation.
      const { service, confirm, ...rest } = { confirm: undefined, ...outcome };
      logger.info(`${outcome.result} task ${outcome.taskId}`, {
        ...rest,
        cloudMapService: service,
        action,
        ...(confirm ? { operations: confirm.registrations.map((r) => r.operationId).filter(Boolean) } : {}),
      });
      for (const warning of outcome.result === 'registered' ? (outcome.warnings ?? []) : []) {
        logger.warn(warning, { taskId: outcome.taskId, action });
      }
      metrics.addMetric(outcome.result === 'registered' ? 'Registered' : 'Deregistered', MetricUnit.Count, 1);
      metrics.addMetric('RegistrationLag', MetricUnit.Milliseconds, outcome.lagMs);
      return;
    }
    case 'confirmed': {
      const { service, ...rest } = outcome;
      logger.debug(`confirmed task ${outcome.taskId}`, { ...rest, cloudMapService: service, action: 'confirm' });
      metrics.addMetric('Confirmed', MetricUnit.Count, 1);
      return;
    }
    case 'skipped': {
      const { message, ...rest } = outcome;
      logger.info(`skipped: ${message}`, { ...rest, action: 'skip' });
      // A metric of its own, published at once: a dimension on the shared object would also tag every
      // later metric of the container and warn on the next skip ("Dimension reason has already been added").
      const skip = metrics.singleMetric();
      skip.addDimension('reason', outcome.reason);
      skip.addMetric('Skipped', MetricUnit.Count, 1);
      return;
    }
  }
}

/**
 * Handles one event with logs and metrics. A failure (AWS throttling, 5xx, a failed operation) is
 * logged, counted and rethrown, so Lambda's retries and the DLQ take over.
 */
export async function runRegistration(
  input: unknown,
  deps: RegistrarDeps,
  /**
   * `recheck`: the event comes back from the function's own queue, already recorded once. A task still not HEALTHY
   * then is no news: a debug line, no info line nor Skipped metric (the caller counts these re-checks), or a task
   * re-read every second for the length of its health check would log and publish a metric each time.
   */
  options: { recheck?: boolean } = {},
): Promise<Outcome> {
  return recorded(input, () => handleTaskEvent(input, deps), options.recheck ? recordQuietlyIfPending : undefined);
}

/** Records a re-checked task whose health is still pending at debug only (true); anything else is left (false). */
function recordQuietlyIfPending(outcome: Outcome): boolean {
  if (outcome.result !== 'skipped' || outcome.reason !== 'health-pending') return false;
  const { message, ...rest } = outcome;
  logger.debug(`still pending: ${message}`, { ...rest, action: 'recheck' });
  return true;
}

/** confirmRegistration with logs and metrics, as runRegistration; the caller decides what a failure means. */
export async function runConfirmation(
  event: unknown,
  confirm: PendingConfirm,
  deps: RegistrarDeps,
): Promise<Outcome | 'pending'> {
  return recorded(event, () => confirmRegistration(confirm, deps));
}

async function recorded<T extends Outcome | 'pending'>(
  input: unknown,
  run: () => Promise<T>,
  /** Records the outcome its own way and answers true, or answers false (recordOutcome records it). */
  recordedElsewise?: (outcome: Outcome) => boolean,
): Promise<T> {
  try {
    const outcome = await run();
    if (outcome !== 'pending' && !recordedElsewise?.(outcome)) recordOutcome(outcome);
    return outcome;
  } catch (error) {
    const detail = (input as { detail?: { taskArn?: unknown; lastStatus?: unknown } } | null)?.detail;
    logger.error('task event failed; it will be retried', {
      error: error as Error,
      taskArn: detail?.taskArn,
      lastStatus: detail?.lastStatus,
      action: 'fail',
    });
    metrics.addMetric('Failed', MetricUnit.Count, 1);
    throw error;
  }
}
