import type { DeploySettings } from '../params';
import { cloudMapStatements } from './cloud-map';
import { ecsReadStatements } from './ecs';
import { logStatement, type Statement, taskVersionsStatement } from './role';

/**
 * The permissions of a task-event consumer (functions/register.ts on the register queue, functions/deregister.ts on
 * the leaving queue); see the README's list for every `Resource: "*"`. Each reads its own queue, as its SQS event
 * source does with the function's role, and sends its re-checks (a task not HEALTHY yet, a failed event) to it:
 * a failed leaving event never waits behind registration work.
 */
export function registerStatements(s: DeploySettings, fn: 'register' | 'deregister' = 'register'): Statement[] {
  const own = fn === 'register' ? 'RegisterQueue' : 'LeavingQueue';
  return [
    logStatement(s, fn),
    {
      Sid: 'ReadOwnQueue',
      Effect: 'Allow',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
      Resource: [{ 'Fn::GetAtt': [own, 'Arn'] }],
    },
    {
      Sid: 'SendRechecksToOwnQueue',
      Effect: 'Allow',
      Action: ['sqs:SendMessage', 'sqs:GetQueueUrl'],
      Resource: [{ 'Fn::GetAtt': [own, 'Arn'] }],
    },
    taskVersionsStatement,
    ...ecsReadStatements(s),
    ...cloudMapStatements(s, { health: false }),
  ];
}
