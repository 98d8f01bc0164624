import { loadRegistrarConfig } from '../../../lib/config';
import { parseTaskEvent } from '../../../lib/task-event';
import { loadEvent } from '../../helpers/fixtures';

/**
 * zod/mini loads no locale (every message would read "Invalid input"); lib/config.ts and lib/task-event.ts load
 * zod's English one themselves. This file imports nothing that loads zod classic, which would load it too.
 */

it('words a bad configuration value in zod English', () => {
  expect(() => loadRegistrarConfig({ NAMESPACE: 'n', TASK_TABLE: 'tasks', DEFAULT_PORT: '0', DNS_TTL: 'ten' })).toThrow(
    'Invalid configuration: DNS_TTL: Invalid input: expected number, received NaN; DEFAULT_PORT: Too small: expected number to be >=1',
  );
});

it('words a malformed task detail in zod English', () => {
  const event = loadEvent('01-fargate-awsvpc-running-standalone-docs.json');
  const parsed = parseTaskEvent({ ...event, detail: { ...event.detail, version: -1, lastStatus: 7 } });
  expect(parsed).toEqual({
    ok: false,
    reason: 'malformed-detail',
    message:
      'malformed task detail: detail.lastStatus: Invalid input: expected string, received number; detail.version: Too small: expected number to be >=0',
  });
});
