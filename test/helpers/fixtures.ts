import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

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
