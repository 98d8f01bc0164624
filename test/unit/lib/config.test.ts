import {
  loadPlanConfig,
  loadReconcileConfig,
  loadRegistrarConfig,
  loadServiceCreatorConfig,
} from '../../../lib/config';
import { ConfigError } from '../../../lib/errors';

describe('loadRegistrarConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadRegistrarConfig({ NAMESPACE: 'kudos.local', TASK_TABLE: 'tasks' })).toEqual({
      namespace: 'kudos.local',
      dnsRecords: 'A',
      dnsTtl: 10,
      defaultPort: 80,
      ownerId: 'ecs-cloudmap-registrar',
      operationTimeoutMs: 30000,
      serviceTagsTtlMs: 60000,
      healthWaitMs: 300000,
      healthPollMs: 1000,
      taskTable: 'tasks',
    });
  });

  it.each([
    'ns-abcdefghij0123456789',
    'arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-abcdefghij0123456789',
  ])('takes NAMESPACE=%s as it is', (namespace) => {
    expect(loadRegistrarConfig({ NAMESPACE: namespace, TASK_TABLE: 'tasks' }).namespace).toBe(namespace);
  });

  it('throws naming the missing namespace', () => {
    expect(() => loadRegistrarConfig({})).toThrow(
      new ConfigError('Invalid configuration: NAMESPACE is required; TASK_TABLE is required'),
    );
    expect(() => loadRegistrarConfig({ NAMESPACE: '' })).toThrow(/NAMESPACE is required/);
  });

  it('throws naming each key with a bad value', () => {
    expect(() =>
      loadRegistrarConfig({ NAMESPACE: 'n', TASK_TABLE: 'tasks', DEFAULT_PORT: '0', DNS_TTL: 'ten' }),
    ).toThrow(/DNS_TTL: .*; DEFAULT_PORT: /);
  });

  it.each([
    ['a,aaaa', 'A+AAAA'],
    ['A+AAAA', 'A+AAAA'],
    ['AAAA', 'AAAA'],
  ])('reads DNS_RECORDS=%s as %s', (value, expected) => {
    expect(loadPlanConfig({ NAMESPACE: 'n', DNS_RECORDS: value }).dnsRecords).toBe(expected);
  });

  it('refuses DNS records the registrar does not choose for awsvpc tasks', () => {
    expect(() => loadPlanConfig({ NAMESPACE: 'n', DNS_RECORDS: 'CNAME' })).toThrow(/DNS_RECORDS/);
  });
});

describe('CLUSTER_NAMESPACES', () => {
  it('maps clusters (by name or ARN) to namespaces of their own', () => {
    const config = loadPlanConfig({
      NAMESPACE: 'kudos.local',
      CLUSTER_NAMESPACES: 'blue=blue.local, arn:aws:ecs:us-east-1:123456789012:cluster/green = green.local',
    });
    expect(config.clusterNamespaces).toEqual({ blue: 'blue.local', green: 'green.local' });
  });

  // Namespace references as Cloud Map takes them: a name, an id of any length (NamespaceSummary `Id`, at most 64
  // characters: https://docs.aws.amazon.com/cloud-map/latest/api/API_NamespaceSummary.html) or an ARN (GetNamespace
  // `Id`: https://docs.aws.amazon.com/cloud-map/latest/api/API_GetNamespace.html).
  it('maps clusters to namespaces given by name, by id of any length or by ARN', () => {
    const arn = 'arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-abcdefghij0123456789';
    const config = loadPlanConfig({
      NAMESPACE: 'kudos.local',
      CLUSTER_NAMESPACES: `blue=ns-abcdefghijklmnop, green=ns-abcdefghij0123456789, red=${arn}`,
    });
    expect(config.clusterNamespaces).toEqual({
      blue: 'ns-abcdefghijklmnop',
      green: 'ns-abcdefghij0123456789',
      red: arn,
    });
  });

  it('leaves the mapping out when empty, and refuses a malformed one naming the key', () => {
    expect(loadPlanConfig({ NAMESPACE: 'n' }).clusterNamespaces).toBeUndefined();
    expect(() => loadPlanConfig({ NAMESPACE: 'n', CLUSTER_NAMESPACES: 'blue' })).toThrow(
      /CLUSTER_NAMESPACES: expected cluster=namespace pairs/,
    );
  });
});

describe('SERVICE_CREATOR_FUNCTION', () => {
  const env = { NAMESPACE: 'kudos.local', TASK_TABLE: 'tasks' };

  it.each([
    'ecs-cloudmap-registrar-prod-createService',
    'arn:aws:lambda:eu-west-1:123456789012:function:ecs-cloudmap-registrar-prod-createService',
    'arn:aws:lambda:eu-west-1:123456789012:function:creator:live',
  ])('takes the function to invoke for new services: %s', (name) => {
    expect(loadRegistrarConfig({ ...env, SERVICE_CREATOR_FUNCTION: name }).serviceCreatorFunction).toBe(name);
  });

  it('is absent when unset or empty (services are then created in-process)', () => {
    expect(loadRegistrarConfig(env)).not.toHaveProperty('serviceCreatorFunction');
    expect(loadRegistrarConfig({ ...env, SERVICE_CREATOR_FUNCTION: '' })).not.toHaveProperty('serviceCreatorFunction');
  });

  it.each(['has space', 'arn:aws:sqs:eu-west-1:123456789012:queue', 'x'.repeat(65)])(
    'refuses %s, naming the key',
    (name) => {
      expect(() => loadRegistrarConfig({ ...env, SERVICE_CREATOR_FUNCTION: name })).toThrow(
        /SERVICE_CREATOR_FUNCTION: expected a Lambda function name or ARN/,
      );
    },
  );
});

describe('loadServiceCreatorConfig', () => {
  it('allows NAMESPACE and the namespaces of CLUSTER_NAMESPACES, once each', () => {
    expect(
      loadServiceCreatorConfig({
        NAMESPACE: 'kudos.local',
        OWNER_ID: 'team-a',
        CLUSTER_NAMESPACES: 'prod-b=ns-bbbbbbbbbbbbbbbb,prod-c=kudos.local,prod-d=ns-bbbbbbbbbbbbbbbb',
      }),
    ).toEqual({ ownerId: 'team-a', namespaces: ['kudos.local', 'ns-bbbbbbbbbbbbbbbb'] });
  });

  it('needs no task table (it only creates services)', () => {
    expect(loadServiceCreatorConfig({ NAMESPACE: 'kudos.local' })).toEqual({
      ownerId: 'ecs-cloudmap-registrar',
      namespaces: ['kudos.local'],
    });
  });
});

describe('loadReconcileConfig', () => {
  const env = { NAMESPACE: 'kudos.local', TASK_TABLE: 'tasks' };

  it('applies the documented defaults of the scheduled functions', () => {
    expect(loadReconcileConfig(env)).toMatchObject({ maxDeletes: 50, healthSweepIntervalMs: 20_000 });
    expect(loadReconcileConfig(env)).not.toHaveProperty('clusters');
  });

  it('reads the watched clusters, comma-separated', () => {
    expect(loadReconcileConfig({ ...env, WATCHED_CLUSTERS: ' a, b ,' }).clusters).toEqual(['a', 'b']);
  });

  // The deploy check's range: the sweep loops within one scheduled minute, so a longer interval means one pass a minute.
  it('refuses a health sweep interval longer than its one-minute schedule, naming the key', () => {
    expect(loadReconcileConfig({ ...env, HEALTH_SWEEP_INTERVAL_MS: '60000' }).healthSweepIntervalMs).toBe(60_000);
    expect(() => loadReconcileConfig({ ...env, HEALTH_SWEEP_INTERVAL_MS: '90000' })).toThrow(
      /HEALTH_SWEEP_INTERVAL_MS: /,
    );
  });
});
