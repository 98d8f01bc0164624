import type { DeploySettings } from '../params';
import { cloudMapStatements } from './cloud-map';
import { ecsReadStatements } from './ecs';
import { logStatement, type Statement, taskVersionsStatement } from './role';

/** The register function's permissions (functions/register.ts); see the README's list for every `Resource: "*"`. */
export function registerStatements(s: DeploySettings): Statement[] {
  return [
    logStatement(s, 'register'),
    {
      // The on-failure destination is written with the function's own role.
      Sid: 'SendFailedEventsToDlq',
      Effect: 'Allow',
      Action: ['sqs:SendMessage'],
      Resource: [{ 'Fn::GetAtt': ['RegisterDlq', 'Arn'] }],
    },
    taskVersionsStatement,
    ...ecsReadStatements(s),
    ...cloudMapStatements(s, { health: false }),
  ];
}
