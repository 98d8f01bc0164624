import { SETTINGS } from '../../lib/settings';
import { functionName } from './cfn';
import type { DeploySettings } from './params';

/** What the functions get besides their roles: timeouts and reserved concurrency that follow the parameters. */

/** The register function's wait for a Cloud Map operation: OPERATION_TIMEOUT_MS, set by the stack to its default. */
export const OPERATION_TIMEOUT_MS = SETTINGS.operationTimeoutMs.default;

/** Time the register function needs beside its two waits (ECS reads, the version store, Cloud Map calls). */
const REGISTER_TIMEOUT_MARGIN_S = 15;

/**
 * The register function's timeout: its wait for a health-checked task to turn HEALTHY, then a Cloud Map
 * operation's wait, plus the calls around them; at least the 60 s it always had, at most Lambda's 900 s.
 */
export function registerTimeout(s: DeploySettings): number {
  const needed = Math.ceil((s.healthWaitMs + OPERATION_TIMEOUT_MS) / 1000) + REGISTER_TIMEOUT_MARGIN_S;
  return Math.min(900, Math.max(60, needed));
}

/** SERVICE_CREATOR_FUNCTION of the writers: the createService function, which alone may create a service. */
export const serviceCreatorFunction = (s: DeploySettings): string => functionName(s, 'createService');

/** Reserved concurrency, where a parameter asks for it (extensions of the functions osls generates). */
export function concurrencyExtensions(s: DeploySettings) {
  const extensions: Record<string, { Properties: { ReservedConcurrentExecutions: number } }> = {};
  if (s.registerMaxConcurrency !== undefined) {
    extensions.RegisterLambdaFunction = { Properties: { ReservedConcurrentExecutions: s.registerMaxConcurrency } };
  }
  if (s.lookupMaxConcurrency !== undefined) {
    extensions.LookupLambdaFunction = { Properties: { ReservedConcurrentExecutions: s.lookupMaxConcurrency } };
  }
  if (s.reconcileMaxConcurrency !== undefined) {
    extensions.ReconcileLambdaFunction = { Properties: { ReservedConcurrentExecutions: s.reconcileMaxConcurrency } };
  }
  return extensions;
}
