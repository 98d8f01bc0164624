import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskDefinitionFacts } from '../../lib/ports';

const root = join(__dirname, '..', 'fixtures');

/** A fixture event by file name, from `ecs-events/` (real) or `written/` (written here). */
export function loadEvent(name: string): Record<string, unknown> & { detail: Record<string, unknown> } {
  const dir = name.startsWith('written/') ? '' : 'ecs-events';
  return JSON.parse(readFileSync(join(root, dir, name), 'utf8'));
}

/** Every real fixture file name. */
export function realEventNames(): string[] {
  return readdirSync(join(root, 'ecs-events')).filter((f) => f.endsWith('.json'));
}

/** A deep copy of an event with `detail` fields replaced. */
export function withDetail<T extends { detail: Record<string, unknown> }>(
  event: T,
  detail: Record<string, unknown>,
): T {
  const copy = structuredClone(event);
  Object.assign(copy.detail, detail);
  return copy;
}

/**
 * The task definition of fixture 07 (`07-fargate-running-multicontainer-service-connect-sdi.json`, family
 * cdp-demo-test-15) as the registrar reads it, with a health check on its essential container: the task joins
 * discovery only once ECS reports it HEALTHY.
 */
export const HEALTH_CHECKED_07: TaskDefinitionFacts = {
  arn: 'arn:aws:ecs:eu-west-2:332499610595:task-definition/cdp-demo-test-15:1',
  family: 'cdp-demo-test-15',
  networkMode: 'awsvpc',
  containers: [
    { name: 'log_router', essential: false, portMappings: [], hasHealthCheck: false },
    { name: 'app', essential: true, portMappings: [{ containerPort: 8085 }], hasHealthCheck: true },
  ],
};
