import { alarmActions, registrationLagAlarmMs } from './alarms';
import { apiGateway, endpointType, lookupEvents, restApiStage, vpcEndpointIds } from './api-modes';
import { clusterNamespacesVariable, watchedClustersVariable } from './clusters';
import { reconcileMaxEventAge, rulePattern } from './events';
import { OPERATION_TIMEOUT_MS, registerTimeout, serviceCreatorFunction } from './functions';
import { namespaceRef } from './namespaces';
import { type DeploySettings, type ResolveVariable, settingsOf } from './params';
import { resources } from './resources';

/**
 * Deploy-time configuration of ecs-cloudmap-registrar: what serverless.yml reads with
 * `${file(./serverless/deploy-config.js):NAME}` (that CommonJS file loads this one through tsx).
 *
 * The parameters are read once and checked (params.ts), and turned into the EventBridge pattern (events.ts), the
 * lookup API of the chosen mode (api-modes.ts), the functions' environment values, timeouts and reserved
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
  namespace: derived(namespaceRef),
  rulePattern: derived(rulePattern),
  lookupEvents: derived(lookupEvents),
  endpointType: derived(endpointType),
  vpcEndpointIds: derived(vpcEndpointIds),
  apiGateway: derived(apiGateway),
  logRetentionInDays: derived((s) => Number(s.logRetentionInDays)),
  cacheIntervalMs: derived((s) => String(s.cacheIntervalMs)),
  cacheMaxEntries: derived((s) => String(s.cacheMaxEntries)),
  healthMaxAgeMs: derived((s) => String(s.healthMaxAgeMs)),
  cacheControlMaxAge: derived((s) => String(s.cacheControlMaxAge)),
  staleIfErrorMs: derived((s) => String(s.staleIfErrorMs)),
  // The lookup's allowlist (LOOKUP_NAMESPACES): `*` or the names, comma-separated (IAM holds the same list).
  lookupNamespaces: derived((s) => (s.lookupNamespaces === '*' ? '*' : s.lookupNamespaces.join(','))),
  healthWaitMs: derived((s) => String(s.healthWaitMs)),
  healthPollMs: derived((s) => String(s.healthPollMs)),
  operationTimeoutMs: derived(() => String(OPERATION_TIMEOUT_MS)),
  registerTimeout: derived(registerTimeout),
  watchedClusters: derived(watchedClustersVariable),
  clusterNamespaces: derived(clusterNamespacesVariable),
  serviceCreatorFunction: derived(serviceCreatorFunction),
  reconcileSchedule: derived((s) => s.reconcileSchedule),
  reconcileMaxEventAge: derived(reconcileMaxEventAge),
  restApiStage: derived(restApiStage),
  reconcileMaxDeletes: derived((s) => String(s.reconcileMaxDeletes)),
  healthSweepIntervalMs: derived((s) => String(s.healthSweepIntervalMs)),
  dnsRecords: derived((s) => s.dnsRecords),
  alarmActions: derived(alarmActions),
  registrationLagAlarmMs: derived(registrationLagAlarmMs),
  resources: derived(resources),
};
