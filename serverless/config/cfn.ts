// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the ${...} are CloudFormation Fn::Sub placeholders, not JavaScript templates

/**
 * The osls service (serverless.yml `service`): the prefix of every function name and role description.
 * lib/observability.ts holds the same name, but importing it would build the functions' logger and metrics here.
 */
export const PROJECT = 'ecs-cloudmap-registrar';

/** A CloudFormation intrinsic function (`Ref`, `Fn::Sub`, `Fn::GetAtt`), resolved when the stack is deployed. */
export type Intrinsic = { [fn: string]: unknown };

/** A string, or an intrinsic that CloudFormation resolves to one (an ARN of this account, a created id). */
export type CfnString = string | Intrinsic;

/** The functions of serverless.yml, by their key. */
export type FunctionKey = 'register' | 'deregister' | 'lookup' | 'reconcile' | 'healthSweep' | 'createService';

export const sub = (text: string): Intrinsic => ({ 'Fn::Sub': text });

/** `arn:<partition>:<service>:<region>:<account>` of the stack, for Fn::Sub. */
export const arnPrefix = (service: string): string =>
  `arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}`;

/** The deployed name of a function: osls names them `<service>-<stage>-<key>`. */
export const functionName = (s: { stage: string }, fn: FunctionKey): string => `${PROJECT}-${s.stage}-${fn}`;
