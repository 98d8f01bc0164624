// Reference for the equivalence tests: lib/task-event.ts as it was on zod classic (and the Powertools parser), verbatim
// but for import paths. Not used by the functions.
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas';
import { z } from 'zod';

/** The detail-type of the only events the registrar acts on. */
export const TASK_STATE_CHANGE = 'ECS Task State Change';

const KeyValue = z.object({ name: z.string(), value: z.string().optional() }).loose();

const Attachment = z
  .object({
    id: z.string().optional(),
    type: z.string(),
    status: z.string().optional(),
    details: z.array(KeyValue).default([]),
  })
  .loose();

const NetworkBinding = z
  .object({
    bindIP: z.string().optional(),
    containerPort: z.number().int().optional(),
    hostPort: z.number().int().optional(),
    protocol: z.string().optional(),
    containerPortRange: z.string().optional(),
    hostPortRange: z.string().optional(),
  })
  .loose();

const Container = z
  .object({
    name: z.string(),
    lastStatus: z.string().optional(),
    healthStatus: z.string().optional(),
    networkInterfaces: z
      .array(
        z
          .object({
            attachmentId: z.string().optional(),
            privateIpv4Address: z.string().optional(),
            ipv6Address: z.string().optional(),
          })
          .loose(),
      )
      .default([]),
    networkBindings: z.array(NetworkBinding).default([]),
  })
  .loose();

const TASK_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task\/.+$/;
const CLUSTER_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/.+$/;

/** The `detail` of an ECS Task State Change, reduced to what the registrar reads; other keys pass through. */
export const TaskDetailSchema = z
  .object({
    taskArn: z.string().regex(TASK_ARN, 'not an ECS task ARN'),
    clusterArn: z.string().regex(CLUSTER_ARN, 'not an ECS cluster ARN'),
    taskDefinitionArn: z.string().min(1),
    lastStatus: z.string().min(1),
    desiredStatus: z.string().min(1),
    version: z.number().int().nonnegative(),
    group: z.string().optional(),
    launchType: z.string().optional(),
    availabilityZone: z.string().optional(),
    containerInstanceArn: z.string().optional(),
    healthStatus: z.string().optional(),
    attachments: z.array(Attachment).default([]),
    containers: z.array(Container).default([]),
  })
  .loose();

/** Any EventBridge event (Powertools' envelope schema), with an opaque detail. */
export const EnvelopeSchema = EventBridgeSchema;

/** An ECS Task State Change as EventBridge delivers it. */
export const TaskStateChangeSchema = EventBridgeSchema.extend({
  source: z.literal('aws.ecs'),
  'detail-type': z.literal(TASK_STATE_CHANGE),
  detail: TaskDetailSchema,
});

export type TaskStateChange = z.infer<typeof TaskStateChangeSchema>;
export type TaskDetail = z.infer<typeof TaskDetailSchema>;

/** Why an input is not a task event the registrar can act on. */
export type EventRejection =
  | { reason: 'not-an-eventbridge-event'; message: string }
  | { reason: 'not-a-task-state-change'; message: string }
  | { reason: 'malformed-detail'; message: string };

export type ParsedEvent = { ok: true; event: TaskStateChange } | ({ ok: false } & EventRejection);

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

/**
 * Validates an input in two steps, so the reason for a rejection is precise: is it an EventBridge
 * event at all, is it an ECS task state change, and is its detail well formed.
 */
export function parseTaskEvent(input: unknown): ParsedEvent {
  const envelope = EnvelopeSchema.safeParse(input);
  if (!envelope.success) {
    return {
      ok: false,
      reason: 'not-an-eventbridge-event',
      message: `not an EventBridge event: ${describeIssues(envelope.error)}`,
    };
  }
  const { source } = envelope.data;
  const detailType = envelope.data['detail-type'];
  if (source !== 'aws.ecs' || detailType !== TASK_STATE_CHANGE) {
    return {
      ok: false,
      reason: 'not-a-task-state-change',
      message: `event ${JSON.stringify(source)} / ${JSON.stringify(detailType)} is not an aws.ecs "${TASK_STATE_CHANGE}"`,
    };
  }
  const parsed = TaskStateChangeSchema.safeParse(input);
  if (!parsed.success) {
    return { ok: false, reason: 'malformed-detail', message: `malformed task detail: ${describeIssues(parsed.error)}` };
  }
  return { ok: true, event: parsed.data };
}

/** The last path segment of an ARN (`.../task/cluster/ID` -> `ID`). */
export function arnTail(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

/** The cluster name of a cluster ARN. */
export function clusterName(clusterArn: string): string {
  return arnTail(clusterArn);
}

/** The task definition family of a task definition ARN (`.../task-definition/FAMILY:REV`). */
export function taskDefinitionFamily(taskDefinitionArn: string): string {
  const tail = arnTail(taskDefinitionArn);
  const colon = tail.indexOf(':');
  return colon === -1 ? tail : tail.slice(0, colon);
}
