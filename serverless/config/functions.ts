import { QUEUE_BATCH_SIZE, REGISTER_BATCH_WINDOW_S, SETTINGS } from '../../lib/settings';
import { functionName, PROJECT } from './cfn';
import type { DeploySettings } from './params';

/** What the functions get besides their roles: timeouts, queues and reserved concurrency that follow the parameters. */

/** The writers' wait for a Cloud Map operation: OPERATION_TIMEOUT_MS, set by the stack to its default. */
export const OPERATION_TIMEOUT_MS = SETTINGS.operationTimeoutMs.default;

/**
 * The register and deregister functions' timeout. Neither waits for a task's health (a re-check is a delayed
 * message on the register queue) nor, in the common case, for a Cloud Map operation (a registration is confirmed by
 * a later message); what may still wait for one is rare (an undo when a task left during its registration, a write
 * meeting another in flight), so the timeout keeps room for one operation wait, with margin for the ECS reads, the
 * version store and the calls around it.
 */
export const TASK_EVENT_TIMEOUT_S = Math.ceil(OPERATION_TIMEOUT_MS / 1000) + 30;

/**
 * The task-event queues' visibility timeout: six times the consumer's timeout, as AWS advises for an SQS event
 * source (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html), so a batch still being handled
 * is not handed out again. A message whose batch failed comes back after it.
 */
export const TASK_QUEUE_VISIBILITY_S = 6 * TASK_EVENT_TIMEOUT_S;

/** REGISTER_QUEUE_NAME: the queue of running tasks and of their health re-checks. */
export const registerQueueName = (s: DeploySettings): string => `${PROJECT}-${s.stage}-register`;

/** The leaving tasks' queue, which only the deregister function reads. */
export const leavingQueueName = (s: DeploySettings): string => `${PROJECT}-${s.stage}-leaving`;

/** SERVICE_CREATOR_FUNCTION of the writers: the createService function, which alone may create a service. */
export const serviceCreatorFunction = (s: DeploySettings): string => functionName(s, 'createService');

/**
 * A queue consumer's SQS event: batches of QUEUE_BATCH_SIZE (10), failures reported per message, at most as many
 * batches at once as the function may run (`none`: no cap beyond the account's). The leaving queue's batches are
 * handed over as soon as they are there (no window: a leaving task waits for nothing); the register queue's gather
 * REGISTER_BATCH_WINDOW_S (lib/settings.ts). The re-checks of tasks not HEALTHY yet and the confirmations come back
 * on that queue; without a window each comes back alone, in an invocation of its own, and during a 1,000-task
 * deployment the register function ran ~17 invocations a second at its 5 slots, each with its own DescribeTasks call
 * (throttled by ECS's 20 a second); with it, ~2 a second of 10 messages each (`npm run bench -- burst`, README
 * "Benchmarks"). The price: a RUNNING event that comes alone waits up to a second.
 */
export function queueEvent(queue: 'RegisterQueue' | 'LeavingQueue', maxConcurrency: number | undefined) {
  return [
    {
      sqs: {
        arn: { 'Fn::GetAtt': [queue, 'Arn'] },
        batchSize: QUEUE_BATCH_SIZE,
        maximumBatchingWindow: queue === 'RegisterQueue' ? REGISTER_BATCH_WINDOW_S : 0,
        functionResponseType: 'ReportBatchItemFailures',
        ...(maxConcurrency !== undefined ? { maximumConcurrency: maxConcurrency } : {}),
      },
    },
  ];
}

/** Reserved concurrency, where a parameter asks for it (extensions of the functions osls generates). */
export function concurrencyExtensions(s: DeploySettings) {
  const extensions: Record<string, { Properties: { ReservedConcurrentExecutions: number } }> = {};
  if (s.registerMaxConcurrency !== undefined) {
    extensions.RegisterLambdaFunction = { Properties: { ReservedConcurrentExecutions: s.registerMaxConcurrency } };
  }
  if (s.deregisterMaxConcurrency !== undefined) {
    extensions.DeregisterLambdaFunction = {
      Properties: { ReservedConcurrentExecutions: s.deregisterMaxConcurrency },
    };
  }
  if (s.lookupMaxConcurrency !== undefined) {
    extensions.LookupLambdaFunction = { Properties: { ReservedConcurrentExecutions: s.lookupMaxConcurrency } };
  }
  if (s.reconcileMaxConcurrency !== undefined) {
    extensions.ReconcileLambdaFunction = { Properties: { ReservedConcurrentExecutions: s.reconcileMaxConcurrency } };
  }
  return extensions;
}
