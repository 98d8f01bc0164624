import { type EventPattern, matchesEventPattern } from '../../local/emulator/events/event-pattern';
import type { CfnResource, CfnTemplate } from '../../support/package-service';
import { loadEvent, withDetail } from '../helpers/fixtures';

/**
 * The task-event path of a template (serverless/config/task-events.ts): the two rules, the queue each feeds, and
 * which rule an ECS event goes to, matched as EventBridge matches (local/emulator/events/event-pattern.ts).
 */

export type RuleKind = 'running' | 'leaving';

/** The rule of each kind, its queue and the function that reads that queue, by logical id. */
export const TASK_EVENT_PATH = {
  running: {
    rule: 'TaskRunningRule',
    queue: 'RegisterQueue',
    policy: 'RegisterQueuePolicy',
    fn: 'RegisterLambdaFunction',
    role: 'RegisterRole',
  },
  leaving: {
    rule: 'TaskLeavingRule',
    queue: 'LeavingQueue',
    policy: 'LeavingQueuePolicy',
    fn: 'DeregisterLambdaFunction',
    role: 'DeregisterRole',
  },
} as const;

/** The rules of a template that have an event pattern (the schedules have none), by logical id. */
export function patternRules(template: CfnTemplate): Record<string, CfnResource> {
  return Object.fromEntries(
    Object.entries(template.Resources).filter(
      ([, r]) => r.Type === 'AWS::Events::Rule' && r.Properties.EventPattern !== undefined,
    ),
  );
}

/** The event pattern of the rule of this kind; throws when the template has no such rule. */
export function patternOf(template: CfnTemplate, kind: RuleKind): EventPattern {
  const rule = template.Resources[TASK_EVENT_PATH[kind].rule];
  if (rule?.Type !== 'AWS::Events::Rule') throw new Error(`no rule ${TASK_EVENT_PATH[kind].rule}`);
  return rule.Properties.EventPattern as EventPattern;
}

/** The kinds of rule an event matches: none, one, or (never wanted) both. */
export function rulesMatching(patterns: Record<RuleKind, EventPattern>, event: unknown): RuleKind[] {
  return (['running', 'leaving'] as const).filter((kind) => matchesEventPattern(patterns[kind], event));
}

/** Every lastStatus an ECS task reports (its lifecycle), and the two desired statuses. */
export const LAST_STATUSES = [
  'PROVISIONING',
  'PENDING',
  'ACTIVATING',
  'RUNNING',
  'DEACTIVATING',
  'STOPPING',
  'DEPROVISIONING',
  'STOPPED',
] as const;
export const DESIRED_STATUSES = ['RUNNING', 'STOPPED'] as const;

/** A real ECS task state change (a Fargate task of a service) with these statuses, from this cluster. */
export function taskEvent(lastStatus: string, desiredStatus: string, clusterArn?: string) {
  return withDetail(loadEvent('07-fargate-running-multicontainer-service-connect-sdi.json'), {
    lastStatus,
    desiredStatus,
    ...(clusterArn ? { clusterArn } : {}),
  });
}
