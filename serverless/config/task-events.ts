import { arnPrefix, PROJECT, sub } from './cfn';
import { leavingPattern, runningPattern } from './events';
import { leavingQueueName, registerQueueName, TASK_QUEUE_VISIBILITY_S } from './functions';
import type { DeploySettings } from './params';

/**
 * Where ECS task events go: two EventBridge rules, each to a queue of its own, each queue read by a function of its
 * own. Running tasks (and their health re-checks) go to the register queue; leaving tasks to the leaving queue, which
 * the deregister function reads with a reservation of its own, so no amount of registration work delays a
 * deregistration. A queue rather than Lambda's asynchronous queue: a throttled asynchronous event is retried after
 * a backoff that grows to 5 minutes, while a queue hands its messages to the next free execution, in batches.
 */

/** The rules' names (what their queues' policies and the rule DLQ's policy name as aws:SourceArn). */
export const ruleName = (s: DeploySettings, kind: 'running' | 'leaving'): string =>
  `${PROJECT}-${s.stage}-task-${kind}`;

const ruleArn = (s: DeploySettings, kind: 'running' | 'leaving') =>
  sub(`${arnPrefix('events')}:rule/${ruleName(s, kind)}`);

/** A task-event queue: SSE-SQS (EventBridge cannot write to one under the AWS-managed KMS key); 5 failures -> DLQ. */
function queue(name: string) {
  return {
    Type: 'AWS::SQS::Queue',
    Properties: {
      QueueName: name,
      VisibilityTimeout: TASK_QUEUE_VISIBILITY_S,
      // An event older than the 6 hours Lambda's asynchronous queue kept one is of no use: reconcile has run since.
      MessageRetentionPeriod: 21_600,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['RegisterDlq', 'Arn'] }, maxReceiveCount: 5 },
    },
  };
}

/** Only its rule may send to a queue (EventBridge sends as events.amazonaws.com with the rule as aws:SourceArn). */
function queuePolicy(s: DeploySettings, logicalId: string, kind: 'running' | 'leaving', alsoRoles: string[] = []) {
  return {
    Type: 'AWS::SQS::QueuePolicy',
    Properties: {
      Queues: [{ Ref: logicalId }],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'OnlyItsRuleMaySend',
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: { 'Fn::GetAtt': [logicalId, 'Arn'] },
            Condition: { ArnEquals: { 'aws:SourceArn': ruleArn(s, kind) } },
          },
          // Each queue also takes its own consumer's re-checks, confirmations and re-sent failures (lib/task-queue.ts,
          // that role's SendMessage), and nobody else's: a Deny wins over any Allow. Keys of one condition are
          // ANDed, the values of a negated key NORed:
          // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
          {
            Sid: 'NobodyElseMaySend',
            Effect: 'Deny',
            Principal: '*',
            Action: 'sqs:SendMessage',
            Resource: { 'Fn::GetAtt': [logicalId, 'Arn'] },
            Condition: {
              ArnNotEquals: {
                'aws:SourceArn': ruleArn(s, kind),
                ...(alsoRoles.length
                  ? { 'aws:PrincipalArn': alsoRoles.map((r) => ({ 'Fn::GetAtt': [r, 'Arn'] })) }
                  : {}),
              },
            },
          },
        ],
      },
    },
  };
}

/** A rule with its queue as the one target; what EventBridge cannot deliver for an hour goes to the rule DLQ. */
function rule(s: DeploySettings, kind: 'running' | 'leaving', pattern: unknown, queueId: string) {
  return {
    Type: 'AWS::Events::Rule',
    Properties: {
      Name: ruleName(s, kind),
      Description: `ECS tasks ${kind === 'running' ? 'running' : 'leaving'}: to the ${kind === 'running' ? 'register' : 'leaving'} queue`,
      State: 'ENABLED',
      EventPattern: pattern,
      Targets: [
        {
          Id: queueId,
          Arn: { 'Fn::GetAtt': [queueId, 'Arn'] },
          RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 185 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['RuleDlq', 'Arn'] } },
        },
      ],
    },
  };
}

/** The rules, queues and queue policies of the task-event path. */
export function taskEventResources(s: DeploySettings): Record<string, unknown> {
  return {
    RegisterQueue: queue(registerQueueName(s)),
    LeavingQueue: queue(leavingQueueName(s)),
    RegisterQueuePolicy: queuePolicy(s, 'RegisterQueue', 'running', ['RegisterRole']),
    LeavingQueuePolicy: queuePolicy(s, 'LeavingQueue', 'leaving', ['DeregisterRole']),
    TaskRunningRule: rule(s, 'running', runningPattern(s), 'RegisterQueue'),
    TaskLeavingRule: rule(s, 'leaving', leavingPattern(s), 'LeavingQueue'),
  };
}
