import { type PrintedPlan, printedPlan } from '../../cli/plan-command';
import { planTaskEvent } from '../../lib/plan';

/**
 * Plans, and reads the plan in the form `registrar plan` prints (the primary registration's service,
 * instanceId and attributes at the top level; `registrations` only when the task has several).
 */
export function planPrinted(...args: Parameters<typeof planTaskEvent>): PrintedPlan {
  return printedPlan(planTaskEvent(...args));
}
