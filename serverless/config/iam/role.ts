import { arnPrefix, type CfnString, type FunctionKey, functionName, sub } from '../cfn';
import type { DeploySettings } from '../params';

/** One statement of a role's policy; every one has a Sid, which the tests and the README refer to. */
export interface Statement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: '*' | CfnString[];
  Condition?: Record<string, Record<string, unknown>>;
}

/** A function's role: assumed by Lambda, with one least-privilege policy. */
export function role(description: string, statements: Statement[]) {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: description,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'lambda.amazonaws.com' },
            Action: 'sts:AssumeRole',
          },
        ],
      },
      Policies: [{ PolicyName: 'least-privilege', PolicyDocument: { Version: '2012-10-17', Statement: statements } }],
    },
  };
}

/** Every function writes its own log group, and no other. */
export const logStatement = (s: DeploySettings, fn: FunctionKey): Statement => ({
  Sid: 'WriteOwnLogs',
  Effect: 'Allow',
  Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
  Resource: [sub(`${arnPrefix('logs')}:log-group:/aws/lambda/${functionName(s, fn)}:*`)],
});

/** The version store orders events per task (lib/dynamodb/dynamodb-version-store.ts). */
export const taskVersionsStatement: Statement = {
  Sid: 'ReadAndWriteTaskVersions',
  Effect: 'Allow',
  Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
  Resource: [{ 'Fn::GetAtt': ['TaskTable', 'Arn'] }],
};
