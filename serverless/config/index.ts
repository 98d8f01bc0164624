import { FUNCTIONS } from '../../lib/settings';
import { alarmActions, registrationLagAlarmMs } from './alarms';
import { apiGateway, endpointType, lookupEvents, restApiStage, vpcEndpointIds } from './api-modes';
import { functionEnvironment } from './environment';
import { reconcileMaxEventAge } from './events';
import { queueEvent, TASK_EVENT_TIMEOUT_S } from './functions';
import { type DeploySettings, type ResolveVariable, settingsOf } from './params';
import { resources } from './resources';

/**
 * Deploy-time configuration of ecs-cloudmap-registrar: what serverless.yml reads with
 * `${file(./serverless/deploy-config.js):NAME}` (that CommonJS file loads this one through tsx).
 *
 * The parameters are read once and checked (params.ts), and turned into the EventBridge pattern (events.ts), the
 * lookup API of the chosen mode (api-modes.ts), the functions' environments (environment.ts), timeouts and reserved
 * concurrency (functions.ts), a role per function (iam/), the alarms' actions (alarms.ts) and the resources that
 * exist only with some parameters (resources.ts). Static resources live in resources/*.yml.
 */

/** A value osls resolves by calling it: `${file(./serverless/deploy-config.js):NAME}`. */
export type Resolver = (context: { resolveVariable: ResolveVariable }) => Promise<unknown>;

/** Wraps a derivation of the checked settings so osls can address it. */
const derived =
  (derive: (s: DeploySettings) => unknown): Resolver =>
  async (context) =>
    derive(await settingsOf(context));

/** Every value serverless.yml and resources/*.yml read, by the name they use. */
export const resolvers: Record<string, Resolver> = {
  // Each function's environment, from the settings catalogue: `registerEnvironment`, `lookupEnvironment`, ...
  ...Object.fromEntries(FUNCTIONS.map((fn) => [`${fn}Environment`, derived((s) => functionEnvironment(fn, s))])),
  registerEvents: derived((s) => queueEvent('RegisterQueue', s.registerMaxConcurrency)),
  deregisterEvents: derived((s) => queueEvent('LeavingQueue', s.deregisterMaxConcurrency)),
  lookupEvents: derived(lookupEvents),
  endpointType: derived(endpointType),
  vpcEndpointIds: derived(vpcEndpointIds),
  apiGateway: derived(apiGateway),
  logRetentionInDays: derived((s) => Number(s.logRetentionInDays)),
  taskEventTimeout: derived(() => TASK_EVENT_TIMEOUT_S),
  reconcileSchedule: derived((s) => s.reconcileSchedule),
  reconcileMaxEventAge: derived(reconcileMaxEventAge),
  restApiStage: derived(restApiStage),
  alarmActions: derived(alarmActions),
  registrationLagAlarmMs: derived(registrationLagAlarmMs),
  resources: derived(resources),
};
