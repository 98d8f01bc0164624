import { type FunctionName, SETTINGS, type StackSetKey, stackSetSettingsOf } from '../../lib/settings';
import type { CfnString } from './cfn';
import { clusterNamespacesVariable, watchedClustersVariable } from './clusters';
import { leavingQueueName, OPERATION_TIMEOUT_MS, registerQueueName, serviceCreatorFunction } from './functions';
import { namespaceRef } from './namespaces';
import type { DeploySettings } from './params';

/**
 * The environment each function gets, derived from the settings catalogue (lib/settings.ts): a function is given
 * exactly the variables its loader reads that a parameter or the stack sets, each with its value from the checked
 * parameters. serverless.yml reads it as `${file(./serverless/deploy-config.js):<function>Environment}`.
 */

/** The settings whose variable is not the checked parameter written as a string: each one's value. */
const DERIVED = {
  namespace: namespaceRef,
  watchedClusters: watchedClustersVariable,
  clusterNamespaces: clusterNamespacesVariable,
  serviceCreatorFunction,
  registerQueueName,
  leavingQueueName,
  operationTimeoutMs: () => String(OPERATION_TIMEOUT_MS),
  // `*` or the names, comma-separated (IAM holds the same list).
  lookupNamespaces: (s: DeploySettings) => (s.lookupNamespaces === '*' ? '*' : s.lookupNamespaces.join(',')),
} satisfies Partial<Record<StackSetKey, (s: DeploySettings) => CfnString>>;

/**
 * The rest are the checked parameter of the same key, written as a string; a setting added to the catalogue with a
 * parameter of its own needs nothing here (the compiler refuses one whose checked value has another name).
 */
type Plain = Exclude<StackSetKey, keyof typeof DERIVED>;
const plain = (key: Plain, s: DeploySettings): string => String(s[key satisfies keyof DeploySettings]);

/** The variables of one function, in catalogue order. */
export function functionEnvironment(fn: FunctionName, s: DeploySettings): Record<string, CfnString> {
  return Object.fromEntries(
    stackSetSettingsOf(fn).map((key) => {
      const derive: ((s: DeploySettings) => CfnString) | undefined = DERIVED[key as keyof typeof DERIVED];
      return [SETTINGS[key].env, derive ? derive(s) : plain(key as Plain, s)];
    }),
  );
}
