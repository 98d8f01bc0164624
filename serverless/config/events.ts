import { LEAVING_LAST_STATUSES } from '../../lib/plan';
import { TASK_STATE_CHANGE } from '../../lib/task-event';
import type { DeploySettings } from './params';

/**
 * The rule's pattern: only task state changes the register function acts on (lib/plan.ts isRunning / isLeaving),
 * and only from the watched clusters, so nothing else ever invokes it.
 */
export function rulePattern(s: DeploySettings) {
  return {
    source: ['aws.ecs'],
    'detail-type': [TASK_STATE_CHANGE],
    detail: {
      ...(s.clusters.length ? { clusterArn: s.clusters.map((c) => c.arn) } : {}),
      $or: [
        { lastStatus: ['RUNNING'], desiredStatus: ['RUNNING'] },
        { lastStatus: [...LEAVING_LAST_STATUSES] },
        { desiredStatus: ['STOPPED'] },
      ],
    },
  };
}

/**
 * How long a scheduled reconcile run may wait in Lambda's queue: one interval (within Lambda's 60 s to 6 h). With
 * one reserved execution a run that finds the previous one still going is throttled and retried; once the next
 * scheduled run is due, the waiting one is dropped rather than queued behind it.
 */
export function reconcileMaxEventAge(s: DeploySettings): number {
  return Math.min(21_600, Math.max(60, s.reconcileIntervalS));
}
