import * as z from 'zod/mini';

// zod/mini loads no locale of its own (every message would read "Invalid input"): English, as zod classic.
z.config(z.locales.en());

/** The detail-type of the only events the registrar acts on. */
export const TASK_STATE_CHANGE = 'ECS Task State Change';

// zod/mini rather than zod classic: the same core, checks and messages, at a tenth of the import cost.
const int = () => z.number().check(z.int());

const KeyValue = () => z.looseObject({ name: z.string(), value: z.optional(z.string()) });

const Attachment = () =>
  z.looseObject({
    id: z.optional(z.string()),
    type: z.string(),
    status: z.optional(z.string()),
    details: z._default(z.array(KeyValue()), []),
  });

const NetworkBinding = () =>
  z.looseObject({
    bindIP: z.optional(z.string()),
    containerPort: z.optional(int()),
    hostPort: z.optional(int()),
    protocol: z.optional(z.string()),
    containerPortRange: z.optional(z.string()),
    hostPortRange: z.optional(z.string()),
  });

const Container = () =>
  z.looseObject({
    name: z.string(),
    lastStatus: z.optional(z.string()),
    healthStatus: z.optional(z.string()),
    networkInterfaces: z._default(
      z.array(
        z.looseObject({
          attachmentId: z.optional(z.string()),
          privateIpv4Address: z.optional(z.string()),
          ipv6Address: z.optional(z.string()),
        }),
      ),
      [],
    ),
    networkBindings: z._default(z.array(NetworkBinding()), []),
  });

const TASK_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task\/.+$/;
const CLUSTER_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/.+$/;

const taskDetail = () =>
  z.looseObject({
    taskArn: z.string().check(z.regex(TASK_ARN, 'not an ECS task ARN')),
    clusterArn: z.string().check(z.regex(CLUSTER_ARN, 'not an ECS cluster ARN')),
    taskDefinitionArn: z.string().check(z.minLength(1)),
    lastStatus: z.string().check(z.minLength(1)),
    desiredStatus: z.string().check(z.minLength(1)),
    version: z.number().check(z.int(), z.nonnegative()),
    group: z.optional(z.string()),
    startedBy: z.optional(z.string()),
    launchType: z.optional(z.string()),
    availabilityZone: z.optional(z.string()),
    containerInstanceArn: z.optional(z.string()),
    healthStatus: z.optional(z.string()),
    attachments: z._default(z.array(Attachment()), []),
    containers: z._default(z.array(Container()), []),
  });

/**
 * The `detail` of an ECS Task State Change, reduced to what the registrar reads; other keys pass through.
 * Lazy, as the schemas below: its few dozen schemas are built at the first parse, not while the bundle loads.
 */
export const TaskDetailSchema = z.lazy(taskDetail);

/**
 * The shape of Powertools' `EventBridgeSchema`, written here because the parser's schemas are built on zod
 * classic (importing one, even by its own path, loads zod classic; the barrel loads every schema).
 */
const envelope = () =>
  z.object({
    version: z.string(),
    id: z.string(),
    source: z.string(),
    account: z.string(),
    time: z.iso.datetime(),
    region: z.string(),
    resources: z.array(z.string()),
    'detail-type': z.string(),
    detail: z.unknown(),
    'replay-name': z.optional(z.string()),
  });

/** Any EventBridge event, with an opaque detail. */
export const EnvelopeSchema = z.lazy(envelope);

/** An ECS Task State Change as EventBridge delivers it. */
export const TaskStateChangeSchema = z.lazy(() =>
  z.extend(envelope(), {
    source: z.literal('aws.ecs'),
    'detail-type': z.literal(TASK_STATE_CHANGE),
    detail: TaskDetailSchema,
  }),
);

export type TaskStateChange = z.infer<typeof TaskStateChangeSchema>;
export type TaskDetail = z.infer<typeof TaskDetailSchema>;

/** Why an input is not a task event the registrar can act on. */
export type EventRejection =
  | { reason: 'not-an-eventbridge-event'; message: string }
  | { reason: 'not-a-task-state-change'; message: string }
  | { reason: 'malformed-detail'; message: string };

export type ParsedEvent = { ok: true; event: TaskStateChange } | ({ ok: false } & EventRejection);

function describeIssues(error: z.core.$ZodError): string {
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

/** The revision of a task definition ARN (`.../task-definition/FAMILY:REV` -> `REV`); undefined without one. */
export function taskDefinitionRevision(taskDefinitionArn: string): string | undefined {
  const revision = /:(\d+)$/.exec(arnTail(taskDefinitionArn))?.[1];
  return revision;
}

/**
 * The deployment of the service that started the task: ECS puts the deployment id (`ecs-svc/<digits>`) in a
 * service task's `startedBy` (API reference, Task: "If a task is started by an Amazon ECS service, the startedBy
 * parameter contains the deployment ID of the service that starts it"); undefined for any other `startedBy`.
 */
export function ecsDeploymentId(startedBy: string | undefined): string | undefined {
  return startedBy !== undefined && /^ecs-svc\/\d+$/.test(startedBy) ? startedBy : undefined;
}

/** The task definition family of a task definition ARN (`.../task-definition/FAMILY:REV`). */
export function taskDefinitionFamily(taskDefinitionArn: string): string {
  const tail = arnTail(taskDefinitionArn);
  const colon = tail.indexOf(':');
  return colon === -1 ? tail : tail.slice(0, colon);
}
