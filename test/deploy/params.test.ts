import { type PackageFailure, packageFailure } from './package-service';

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
];

let results: PackageFailure[];

beforeAll(async () => {
  results = await Promise.all(REFUSED.map((c) => packageFailure(c.params)));
}, 180_000);

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
