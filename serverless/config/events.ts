import { LEAVING_LAST_STATUSES } from '../../lib/plan';
import { TASK_STATE_CHANGE } from '../../lib/task-event';
import type { DeploySettings } from './params';

/** Task state changes of the watched clusters only, so nothing else ever reaches the queues. */
function taskStateChanges(s: DeploySettings, detail: Record<string, unknown>) {
  return {
    source: ['aws.ecs'],
    'detail-type': [TASK_STATE_CHANGE],
    detail: {
      ...(s.clusters.length ? { clusterArn: s.clusters.map((c) => c.arn) } : {}),
      ...detail,
    },
  };
}

/**
 * The running rule's pattern: tasks ECS runs and wants running (lib/plan.ts isRunning), to the register queue. A
 * task that is also leaving matches the leaving rule instead: the two never both match one event.
 */
export function runningPattern(s: DeploySettings) {
  return taskStateChanges(s, { lastStatus: ['RUNNING'], desiredStatus: ['RUNNING'] });
}

/** The leaving rule's pattern: tasks going or gone (lib/plan.ts isLeaving), to the leaving queue. */
export function leavingPattern(s: DeploySettings) {
  return taskStateChanges(s, {
    $or: [{ lastStatus: [...LEAVING_LAST_STATUSES] }, { desiredStatus: ['STOPPED'] }],
  });
}

/**
 * How long a scheduled reconcile run may wait in Lambda's queue: one interval (within Lambda's 60 s to 6 h). With
 * one reserved execution a run that finds the previous one still going is throttled and retried; once the next
 * scheduled run is due, the waiting one is dropped rather than queued behind it.
 */
export function reconcileMaxEventAge(s: DeploySettings): number {
  return Math.min(21_600, Math.max(60, s.reconcileIntervalS));
}
