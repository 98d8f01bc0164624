import type {
  Emulator,
  EventPattern,
  EventSourceMappingSpec,
  InvokeResult,
  QueueOptions,
  ResourceTarget,
} from './emulator';
import {
  deployedName,
  type PrintedConfig,
  type PrintedFunction,
  type PrintedResources,
  rulesFromConfig,
  serviceName,
} from './rules';

/** An SQS queue of the stack (an `AWS::SQS::Queue` resource). */
export interface DeliveryQueue {
  logicalId: string;
  name: string;
  options: QueueOptions;
}

/** A function of the stack, with what Lambda's delivery does with it. */
export interface DeliveryFunction {
  /** The function key in serverless.yml (`register`). */
  key: string;
  /** The deployed name (`<service>-<stage>-<key>` unless the function names itself). */
  name: string;
  reservedConcurrency?: number;
  maximumRetryAttempts?: number;
  maximumEventAgeSeconds?: number;
  /** The on-failure destination when it is a queue of the stack (its name). */
  onFailureQueue?: string;
}

/** An EventBridge rule on the default bus with one target. */
export interface DeliveryRule {
  name: string;
  pattern: EventPattern;
  target: ResourceTarget;
}

/** What serverless.yml deploys between ECS's events and the functions, as the emulator models it. */
export interface Delivery {
  queues: DeliveryQueue[];
  functions: DeliveryFunction[];
  rules: DeliveryRule[];
  eventSourceMappings: EventSourceMappingSpec[];
  /** What the config declares that the local delivery leaves out, one line each (a disabled rule, an SNS target). */
  unsupported: string[];
}

type Resource = { Type?: string; Properties?: Record<string, unknown> };

/**
 * Reads the delivery from `osls print --format json` of serverless.yml: queues (`AWS::SQS::Queue`), functions
 * (reserved concurrency from `reservedConcurrency` or `resources.extensions.<Fn>LambdaFunction`, the asynchronous
 * invocation settings and an SQS on-failure destination), the rules of `eventBridge` events (function targets,
 * invoked asynchronously) and of `AWS::Events::Rule` resources (queue or function targets), and the event source
 * mappings of `sqs` events. `resources` may be one fragment or a list of them.
 */
export function deliveryFromConfig(config: PrintedConfig, stage: string): Delivery {
  const service = serviceName(config);
  const { resources, extensions } = mergeResources(config.resources);
  const unsupported: string[] = [];
  const functionEntries = Object.entries(config.functions ?? {});
  const functionName = (key: string, fn: PrintedFunction) => deployedName(config, stage, key, fn);

  const queueNames = new Map<string, string>();
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::SQS::Queue') continue;
    const name = resource.Properties?.QueueName;
    queueNames.set(logicalId, typeof name === 'string' ? name : `${service}-${stage}-${logicalId}`);
  }
  /** A queue of the stack named by a GetAtt/Ref to it, or by its ARN. */
  const queueOf = (reference: unknown): string | undefined => {
    const logicalId = referencedLogicalId(reference);
    if (logicalId !== undefined) return queueNames.get(logicalId);
    if (typeof reference === 'string' && reference.startsWith('arn:') && reference.split(':')[2] === 'sqs') {
      return reference.split(':')[5];
    }
    return undefined;
  };

  const queues: DeliveryQueue[] = [];
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::SQS::Queue') continue;
    const props = resource.Properties ?? {};
    const options: QueueOptions = {};
    const delay = numberOf(props.DelaySeconds);
    const visibility = numberOf(props.VisibilityTimeout);
    const retention = numberOf(props.MessageRetentionPeriod);
    if (delay !== undefined) options.delaySeconds = delay;
    if (visibility !== undefined) options.visibilityTimeout = visibility;
    if (retention !== undefined) options.messageRetentionPeriod = retention;
    const redrive = parseMaybeJson(props.RedrivePolicy) as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
    if (redrive && typeof redrive === 'object') {
      const target = queueOf(redrive.deadLetterTargetArn);
      const maxReceiveCount = numberOf(redrive.maxReceiveCount);
      if (target !== undefined && maxReceiveCount !== undefined) {
        options.redrivePolicy = { deadLetterQueue: target, maxReceiveCount };
      } else unsupported.push(`queue ${logicalId}: redrive policy to a queue outside the stack`);
    }
    queues.push({ logicalId, name: queueNames.get(logicalId) as string, options });
  }

  const functionsByLogicalId = new Map<string, string>();
  const functions: DeliveryFunction[] = functionEntries.map(([key, fn]) => {
    const logicalId = `${normalizedName(key)}LambdaFunction`;
    const name = functionName(key, fn);
    functionsByLogicalId.set(logicalId, name);
    const reserved =
      numberOf(fn.reservedConcurrency) ?? numberOf(extensions[logicalId]?.Properties?.ReservedConcurrentExecutions);
    const onFailure = fn.destinations?.onFailure;
    const onFailureArn = onFailure && typeof onFailure === 'object' ? (onFailure as { arn?: unknown }).arn : onFailure;
    const onFailureQueue = onFailure === undefined ? undefined : queueOf(onFailureArn);
    if (onFailure !== undefined && onFailureQueue === undefined) {
      unsupported.push(`function ${key}: on-failure destination that is not a queue of the stack`);
    }
    return {
      key,
      name,
      ...(reserved !== undefined ? { reservedConcurrency: reserved } : {}),
      ...(fn.maximumRetryAttempts !== undefined ? { maximumRetryAttempts: Number(fn.maximumRetryAttempts) } : {}),
      ...(fn.maximumEventAge !== undefined ? { maximumEventAgeSeconds: Number(fn.maximumEventAge) } : {}),
      ...(onFailureQueue !== undefined ? { onFailureQueue } : {}),
    };
  });

  const rules: DeliveryRule[] = rulesFromConfig(config, stage).map((rule) => ({
    name: rule.name,
    pattern: rule.pattern,
    target: { function: rule.functionName },
  }));
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::Events::Rule') continue;
    const props = resource.Properties ?? {};
    const ruleName = typeof props.Name === 'string' ? props.Name : logicalId;
    const bus = props.EventBusName;
    if (props.State === 'DISABLED' || (bus !== undefined && bus !== 'default')) {
      unsupported.push(`rule ${ruleName}: ${props.State === 'DISABLED' ? 'disabled' : `on bus ${String(bus)}`}`);
      continue;
    }
    const pattern = parseMaybeJson(props.EventPattern);
    if (!pattern || typeof pattern !== 'object') {
      unsupported.push(`rule ${ruleName}: no event pattern (a schedule)`);
      continue;
    }
    const targets = Array.isArray(props.Targets) ? (props.Targets as { Id?: unknown; Arn?: unknown }[]) : [];
    for (const target of targets) {
      const queue = queueOf(target.Arn);
      const fnLogicalId = referencedLogicalId(target.Arn);
      const fn = fnLogicalId === undefined ? undefined : functionsByLogicalId.get(fnLogicalId);
      const resourceTarget: ResourceTarget | undefined =
        queue !== undefined ? { queue } : fn !== undefined ? { function: fn } : undefined;
      if (!resourceTarget) {
        unsupported.push(
          `rule ${ruleName}: target ${String(target.Id)} is neither a queue nor a function of the stack`,
        );
        continue;
      }
      rules.push({
        name: targets.length === 1 ? ruleName : `${ruleName}/${String(target.Id)}`,
        pattern: pattern as EventPattern,
        target: resourceTarget,
      });
    }
  }

  const eventSourceMappings: EventSourceMappingSpec[] = [];
  for (const [key, fn] of functionEntries) {
    for (const event of fn.events ?? []) {
      if (event.sqs === undefined) continue;
      const spec = typeof event.sqs === 'string' ? { arn: event.sqs } : event.sqs;
      if (spec.enabled === false) continue;
      const queue = queueOf(spec.arn);
      if (queue === undefined) {
        unsupported.push(`function ${key}: sqs event of a queue outside the stack`);
        continue;
      }
      eventSourceMappings.push({
        queue,
        functionName: functionName(key, fn),
        ...(spec.batchSize !== undefined ? { batchSize: Number(spec.batchSize) } : {}),
        ...(spec.maximumBatchingWindow !== undefined
          ? { maximumBatchingWindowSeconds: Number(spec.maximumBatchingWindow) }
          : {}),
        ...(spec.maximumConcurrency !== undefined ? { maximumConcurrency: Number(spec.maximumConcurrency) } : {}),
        ...(spec.functionResponseType === 'ReportBatchItemFailures'
          ? { functionResponseType: 'ReportBatchItemFailures' as const }
          : {}),
      });
    }
  }
  return { queues, functions, rules, eventSourceMappings, unsupported };
}

/**
 * Builds the delivery in the emulator: the queues, the functions (each run by `invoke`, the local stack's
 * Invoke call; the emulator enforces their concurrency), the rules and the event source mappings.
 */
export function applyDelivery(
  emulator: Emulator,
  delivery: Delivery,
  invoke: (functionName: string, payload: unknown) => Promise<InvokeResult>,
): void {
  for (const queue of delivery.queues) emulator.addQueue(queue.name, queue.options);
  for (const fn of delivery.functions) {
    emulator.addFunction({
      name: fn.name,
      code: (payload) => invoke(fn.name, payload),
      ...(fn.reservedConcurrency !== undefined ? { reservedConcurrency: fn.reservedConcurrency } : {}),
      ...(fn.maximumRetryAttempts !== undefined ? { maximumRetryAttempts: fn.maximumRetryAttempts } : {}),
      ...(fn.maximumEventAgeSeconds !== undefined ? { maximumEventAgeSeconds: fn.maximumEventAgeSeconds } : {}),
      ...(fn.onFailureQueue !== undefined ? { onFailureQueue: fn.onFailureQueue } : {}),
    });
  }
  for (const rule of delivery.rules) emulator.addRule(rule);
  for (const mapping of delivery.eventSourceMappings) emulator.addEventSourceMapping(mapping);
}

/** One line per piece of the delivery, for the local stack's log. */
export function describeDelivery(delivery: Delivery): string[] {
  const target = (t: ResourceTarget) => ('queue' in t ? `queue ${t.queue}` : `function ${t.function} (async)`);
  return [
    ...delivery.rules.map((rule) => `rule ${rule.name} -> ${target(rule.target)}: ${JSON.stringify(rule.pattern)}`),
    ...delivery.eventSourceMappings.map(
      (m) =>
        `queue ${m.queue} -> ${m.functionName}: batches of ${m.batchSize ?? 10}` +
        `${m.maximumBatchingWindowSeconds ? ` gathered for up to ${m.maximumBatchingWindowSeconds} s` : ''}` +
        `${m.maximumConcurrency !== undefined ? `, at most ${m.maximumConcurrency} at once` : ''}` +
        `${m.functionResponseType ? `, ${m.functionResponseType}` : ''}`,
    ),
    ...delivery.functions
      .filter((fn) => fn.reservedConcurrency !== undefined)
      .map((fn) => `function ${fn.name}: reserved concurrency ${fn.reservedConcurrency}`),
    ...delivery.unsupported.map((line) => `not modelled locally: ${line}`),
  ];
}

/** The fragments of `resources` merged: their Resources and their extensions. */
function mergeResources(resources: PrintedConfig['resources']): {
  resources: Record<string, Resource>;
  extensions: NonNullable<PrintedResources['extensions']>;
} {
  const fragments = Array.isArray(resources) ? resources : resources ? [resources] : [];
  const merged: Record<string, Resource> = {};
  const extensions: NonNullable<PrintedResources['extensions']> = {};
  for (const fragment of fragments) {
    if (!fragment || typeof fragment !== 'object') continue;
    Object.assign(merged, fragment.Resources ?? {});
    Object.assign(extensions, fragment.extensions ?? {});
  }
  return { resources: merged, extensions };
}

/**
 * The logical id of the function's resource, as the framework names it: the key with its first letter upper-cased,
 * `-` as `Dash` and `_` as `Underscore` (`register` -> `Register`, then `RegisterLambdaFunction`).
 */
export function normalizedName(key: string): string {
  const upper = key.charAt(0).toUpperCase() + key.slice(1);
  return upper.replace(/-/g, 'Dash').replace(/_/g, 'Underscore');
}

/** The logical id a `{"Fn::GetAtt": [Id, "Arn"]}` (or `["Id.Arn"]` / "Id.Arn") or `{"Ref": Id}` names. */
function referencedLogicalId(reference: unknown): string | undefined {
  if (!reference || typeof reference !== 'object') return undefined;
  const getAtt = (reference as Record<string, unknown>)['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0].split('.')[0];
  if (typeof getAtt === 'string') return getAtt.split('.')[0];
  const ref = (reference as Record<string, unknown>).Ref;
  return typeof ref === 'string' ? ref : undefined;
}

function numberOf(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

function parseMaybeJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}
