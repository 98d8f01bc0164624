import { type PackageFailure, packageFailure } from '../../support/package-service';

/** Parameter sets that must fail `osls package`, and the parameter the message must name. */
const REFUSED: { name: string; params: Record<string, string>; names: string }[] = [
  { name: 'open access outside private mode', params: { lookupAuth: 'none' }, names: 'lookupAuth' },
  { name: 'private mode without VPC endpoints', params: { lookupMode: 'private' }, names: 'lookupVpcEndpointIds' },
  {
    name: 'a namespace id without the names the lookup may discover',
    params: { namespace: 'ns-abcdefghij012345' },
    names: 'lookupNamespaces',
  },
  {
    name: 'a private DNS namespace to create without its VPC',
    params: { createNamespace: 'true' },
    names: 'namespaceVpcId',
  },
  { name: 'an unknown lookup mode', params: { lookupMode: 'public' }, names: 'lookupMode' },
  { name: 'a cluster that is neither a name nor an ARN', params: { watchedClusters: 'a/b' }, names: 'watchedClusters' },
  {
    name: 'a plural rate of 1 (EventBridge refuses "1 minutes")',
    params: { reconcileRate: '1 minutes' },
    names: 'reconcileRate',
  },
  {
    name: 'a reconcile rate that is not a rate',
    params: { reconcileRate: 'cron(0 * * * ? *)' },
    names: 'reconcileRate',
  },
  {
    name: 'a health sweep interval longer than its one-minute schedule',
    params: { healthSweepIntervalMs: '90000' },
    names: 'healthSweepIntervalMs',
  },
  { name: 'a health wait that is not a number of ms', params: { healthWaitMs: '12s' }, names: 'healthWaitMs' },
  { name: 'an empty lookup cache', params: { cacheMaxEntries: '0' }, names: 'cacheMaxEntries' },
  {
    name: 'a cluster mapping without "=" (a list of clusters)',
    params: { clusterNamespaces: 'prod-b,prod-c' },
    names: 'clusterNamespaces',
  },
  {
    name: 'a reconcile concurrency other than 1 or none (only 1 makes runs exclusive)',
    params: { reconcileMaxConcurrency: '2' },
    names: 'reconcileMaxConcurrency',
  },
  {
    name: 'an ARN that is not a namespace ARN',
    params: { namespace: 'arn:aws:servicediscovery:eu-west-1:123456789012:service/srv-abcdefghij012345' },
    names: 'namespace',
  },
  {
    name: 'a cluster mapped to two namespaces',
    params: { clusterNamespaces: 'prod-b=b.internal,prod-b=c.internal' },
    names: 'clusterNamespaces',
  },
];

let results: PackageFailure[];

/** How many `osls package` runs at once: more only thrash a small machine (each takes a core for seconds). */
const PARALLEL_PACKAGES = 3;

beforeAll(async () => {
  results = new Array(REFUSED.length);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < REFUSED.length; index = next++) {
      results[index] = await packageFailure(REFUSED[index]?.params ?? {});
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_PACKAGES }, worker));
}, 300_000);

describe('deploy parameters', () => {
  it.each(REFUSED.map((c, index) => [c.name, index, c.names] as const))(
    'refuses %s, naming the parameter',
    (_name, index, names) => {
      const result = results[index];

      expect(result?.exitCode).not.toBe(0);
      expect(result?.output).toContain(`param "${names}"`);
    },
  );
});
