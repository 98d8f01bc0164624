import { loadLookupConfig, loadPlanConfig, loadReconcileConfig, loadRegistrarConfig } from '../../../lib/config';
import type { LookupHttpRequest } from '../../../lib/lookup/types';
import {
  parseInstancesParameters,
  parseLookupRoute,
  parseNamespaceName,
  parseServiceName,
} from '../../../lib/lookup/validation';
import { parseTaskEvent, TaskDetailSchema } from '../../../lib/task-event';
import { createEventFuzzer, fixtureEvents } from '../../helpers/fuzz-events';
import * as classicConfig from './reference/config';
import * as classicEvent from './reference/task-event';
import * as classicValidation from './reference/validation';

/**
 * The schemas moved from zod classic (and the Powertools parser's EventBridge schema) to zod/mini, built lazily,
 * to cut the functions' import time. These tests hold the new code to the old one, kept verbatim in
 * ./reference: the same outcome, the same parsed value and the same message for every input.
 */

/** What a call returned, or the error it threw (class and message), so both sides compare as plain data. */
function outcome(run: () => unknown): unknown {
  try {
    return { returned: run() };
  } catch (error) {
    return { threw: (error as Error).constructor.name, message: (error as Error).message };
  }
}

describe('task events on zod/mini', () => {
  it('parses every fixture event as the zod classic schemas did', () => {
    for (const event of fixtureEvents()) {
      expect(parseTaskEvent(event)).toEqual(classicEvent.parseTaskEvent(event));
    }
  });

  it('accepts, rejects and words 5,000 fuzzed events as the zod classic schemas did', () => {
    const next = createEventFuzzer(20_260_524);
    for (let i = 0; i < 5000; i += 1) {
      const input = next();
      expect(outcome(() => parseTaskEvent(input))).toEqual(outcome(() => classicEvent.parseTaskEvent(input)));
    }
  });

  it('parses a detail alone (a described task) as the zod classic schema did', () => {
    const next = createEventFuzzer(7);
    for (let i = 0; i < 2000; i += 1) {
      const detail = (next() as { detail?: unknown } | null)?.detail;
      const actual = TaskDetailSchema.safeParse(detail);
      const expected = classicEvent.TaskDetailSchema.safeParse(detail);
      expect(actual.success).toBe(expected.success);
      if (actual.success && expected.success) expect(actual.data).toEqual(expected.data);
      else expect(actual.error?.issues).toEqual(expected.error?.issues);
    }
  });

  it('keeps zod English messages (zod/mini alone would say "Invalid input")', () => {
    const [event] = fixtureEvents();
    const parsed = parseTaskEvent({ ...event, time: 'yesterday', resources: 'none' });
    expect(parsed).toMatchObject({ ok: false, reason: 'not-an-eventbridge-event' });
    expect(parsed.ok ? '' : parsed.message).toBe(
      'not an EventBridge event: time: Invalid ISO datetime; resources: Invalid input: expected array, received string',
    );
  });
});

describe('configuration on zod/mini', () => {
  const base = { NAMESPACE: 'kudos.local', TASK_TABLE: 'tasks' };
  const environments: Record<string, string | undefined>[] = [
    {},
    { NAMESPACE: '' },
    base,
    { ...base, DNS_RECORDS: 'a, aaaa', DNS_TTL: '0', DEFAULT_PORT: '65535', OWNER_ID: 'me' },
    { ...base, DNS_RECORDS: 'CNAME' },
    { ...base, DNS_TTL: 'ten', DEFAULT_PORT: '0' },
    { ...base, DNS_TTL: '1.5', DEFAULT_PORT: '65536', OWNER_ID: 'has space' },
    { ...base, TASK_TABLE: 'a/b' },
    { ...base, OPERATION_TIMEOUT_MS: '999', SERVICE_TAGS_TTL_MS: '-1', HEALTH_WAIT_MS: '', HEALTH_POLL_MS: '1e3' },
    { ...base, WATCHED_CLUSTERS: ' a, ,b ', RECONCILE_MAX_DELETES: '100001', HEALTH_SWEEP_INTERVAL_MS: '20000' },
    { ...base, WATCHED_CLUSTERS: '', RECONCILE_MAX_DELETES: '0', HEALTH_SWEEP_INTERVAL_MS: 'soon' },
    { NAMESPACE: 'ns-1', CACHE_INTERVAL_MS: '-1', CACHE_MAX_ENTRIES: '0', HEALTH_MAX_AGE_MS: 'x' },
    { NAMESPACE: 'ns-1', CACHE_CONTROL_MAX_AGE: '1.5', STALE_IF_ERROR_MS: '3600001' },
    { NAMESPACE: 'ns-1', CACHE_INTERVAL_MS: ' 250 ', CACHE_MAX_ENTRIES: '0x10', STALE_IF_ERROR_MS: 'Infinity' },
  ];
  const loaders = [
    ['loadPlanConfig', loadPlanConfig, classicConfig.loadPlanConfig],
    ['loadRegistrarConfig', loadRegistrarConfig, classicConfig.loadRegistrarConfig],
    ['loadReconcileConfig', loadReconcileConfig, classicConfig.loadReconcileConfig],
    ['loadLookupConfig', loadLookupConfig, classicConfig.loadLookupConfig],
  ] as const;

  it.each(loaders)('%s reads and refuses every environment as on zod classic', (_name, actual, expected) => {
    for (const env of environments) {
      expect(outcome(() => actual(env))).toEqual(outcome(() => expected(env)));
    }
  });
});

describe('lookup validation on zod/mini', () => {
  const names = ['api', 'a.b', '', '-a', 'a-', 'a..b', 'é', 'a'.repeat(63), 'a'.repeat(64), 'ns-abc', 'x/y', 'a b'];
  const values = ['', ' ', 'a b', 'a\tb', ' a', 'a ', 'x'.repeat(1024), 'x'.repeat(1025), 'é', '0', '01', '1000'];
  const queries: [string, string][][] = [
    [['health', 'healthy']],
    [['health', 'Unhealthy']],
    [['health', 'some']],
    [['max', '1']],
    [['max', '1000']],
    [['max', '1001']],
    [['max', '0']],
    [['max', '1.0']],
    [['max', ' 5']],
    [['attr.stage', 'prod']],
    [['prefer.az', 'a b']],
    [['attr.', 'x']],
    [['attr.k', 'x'.repeat(1025)]],
    [['unknown', 'x']],
  ];

  it('accepts and refuses names as on zod classic', () => {
    for (const name of names) {
      expect(outcome(() => parseServiceName(name))).toEqual(outcome(() => classicValidation.parseServiceName(name)));
      expect(outcome(() => parseNamespaceName(name))).toEqual(
        outcome(() => classicValidation.parseNamespaceName(name)),
      );
    }
  });

  it('reads and refuses query parameters as on zod classic', () => {
    const all = [...queries, ...values.map((value): [string, string][] => [['attr.k', value]])];
    for (const query of all) {
      expect(outcome(() => parseInstancesParameters(query))).toEqual(
        outcome(() => classicValidation.parseInstancesParameters(query)),
      );
    }
  });

  it('routes as on zod classic', () => {
    const paths = ['/services', '/services/api', '/namespaces/kudos.local/services/api', '/resolve/api.kudos.local'];
    for (const path of [...paths, '/resolve/api', '/services/a%2Fb', '/services/%E0%A4%A']) {
      const request: LookupHttpRequest = { method: 'GET', path, query: [['max', '5']], headers: {} };
      expect(outcome(() => parseLookupRoute(request, 'kudos.local'))).toEqual(
        outcome(() => classicValidation.parseLookupRoute(request, 'kudos.local')),
      );
    }
  });
});
