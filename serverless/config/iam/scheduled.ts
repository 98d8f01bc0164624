import type { DeploySettings } from '../params';
import { cloudMapStatements } from './cloud-map';
import { ecsListStatements, ecsReadStatements } from './ecs';
import { logStatement, type Statement, taskVersionsStatement } from './role';

/**
 * The permissions of a scheduled function (reconcile, healthSweep): the register function's reads and writes
 * (both register through lib/registrar.ts registerPlanned and deregister through deregisterOwned), the task
 * listing, and Cloud Map's custom health. No DLQ: a failed run is repeated by the next scheduled one.
 */
export function scheduledStatements(s: DeploySettings, fn: 'reconcile' | 'healthSweep'): Statement[] {
  return [
    logStatement(s, fn),
    taskVersionsStatement,
    ...ecsListStatements(s),
    ...ecsReadStatements(s),
    ...cloudMapStatements(s, { health: true }),
  ];
}
