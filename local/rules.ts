import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { promisify } from 'node:util';
import type { EventPattern, InvokeResult } from './emulator';

const run = promisify(execFile);

/** One function's EventBridge subscription, as serverless.yml declares it once osls has resolved it. */
export interface FunctionRule {
  /** `<function key>-<index>`, unique per subscription. */
  name: string;
  /** The deployed Lambda name, `<service>-<stage>-<function>` unless the function names itself. */
  functionName: string;
  pattern: EventPattern;
}

/** One function's `schedule` event with a rate expression, as serverless.yml declares it once resolved. */
export interface FunctionSchedule {
  /** The rule name serverless.yml gives it, else `<function key>-<index>`. */
  name: string;
  /** The function key in serverless.yml (`healthSweep`). */
  functionKey: string;
  /** The deployed Lambda name, `<service>-<stage>-<function>` unless the function names itself. */
  functionName: string;
  /** The expression as written: `rate(5 minutes)`. */
  expression: string;
  /** The rate in milliseconds of AWS time. */
  rateMs: number;
  /** The constant input the rule sends instead of the scheduled event, when serverless.yml sets one. */
  input?: unknown;
}

type ScheduleEvent =
  | string
  | { rate?: string | string[]; enabled?: boolean; input?: unknown; name?: string; method?: string };

/** A function's `sqs` event as osls prints it (its `arn` usually `{"Fn::GetAtt": [<QueueLogicalId>, "Arn"]}`). */
export interface SqsEventSpec {
  arn?: unknown;
  batchSize?: number;
  maximumBatchingWindow?: number;
  maximumConcurrency?: number;
  functionResponseType?: string;
  enabled?: boolean;
}

/** One function of the resolved config: what the local stack reads of it. */
export interface PrintedFunction {
  name?: string;
  environment?: Record<string, unknown>;
  reservedConcurrency?: number;
  maximumRetryAttempts?: number;
  maximumEventAge?: number;
  destinations?: { onFailure?: unknown; onSuccess?: unknown };
  events?: {
    eventBridge?: { pattern?: EventPattern; eventBus?: string };
    schedule?: ScheduleEvent;
    sqs?: string | SqsEventSpec;
  }[];
}

/** A CloudFormation fragment of `resources`: its Resources, Outputs and (serverless) extensions. */
export interface PrintedResources {
  Resources?: Record<string, { Type?: string; Properties?: Record<string, unknown> }>;
  Outputs?: Record<string, unknown>;
  extensions?: Record<string, { Properties?: Record<string, unknown> }>;
}

export interface PrintedConfig {
  service?: string | { name?: string };
  functions?: Record<string, PrintedFunction>;
  /** One fragment, or a list of them (as serverless.yml's `resources:` list prints). */
  resources?: PrintedResources | PrintedResources[];
}

/**
 * What the local stack wires from serverless.yml: schedules it runs itself, the task table it creates for the
 * functions, and the resolved config its delivery (rules, queues, event sources) is read from.
 */
export interface LocalTriggers {
  schedules: FunctionSchedule[];
  /** Schedules the local stack cannot run (cron expressions), described for one log line each. */
  unsupported: string[];
  /** The functions' TASK_TABLE as serverless.yml resolves it for the stage. */
  taskTable: string;
  /** The whole resolved config (local/delivery.ts reads the delivery from it). */
  config: PrintedConfig;
}

/** `osls print --format json`: serverless.yml with params and variables resolved by the framework itself. */
export async function printConfig(stage: string, cwd: string): Promise<PrintedConfig> {
  const { stdout } = await run('npx', ['osls', 'print', '--format', 'json', '--stage', stage], {
    cwd,
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
  });
  return JSON.parse(stdout) as PrintedConfig;
}

/** Reads the schedules, the task table and the whole config from one `osls print` (it takes seconds). */
export async function loadLocalTriggers(stage: string, cwd: string): Promise<LocalTriggers> {
  const config = await printConfig(stage, cwd);
  return {
    ...schedulesFromConfig(config, stage),
    taskTable: taskTableFromConfig(config),
    config,
  };
}

/** The one TASK_TABLE the functions of a resolved config share (the local stack creates that table). */
export function taskTableFromConfig(config: PrintedConfig): string {
  const names = new Set(
    Object.values(config.functions ?? {})
      .map((fn) => fn.environment?.TASK_TABLE)
      .filter((name) => name !== undefined),
  );
  const [name, ...others] = [...names];
  if (typeof name !== 'string' || others.length > 0) {
    throw new Error(`serverless.yml should give the functions one TASK_TABLE, not ${JSON.stringify([...names])}`);
  }
  return name;
}

export const serviceName = (config: PrintedConfig) =>
  typeof config.service === 'string' ? config.service : (config.service?.name ?? 'service');

/** A function's deployed name: its own `name`, else the framework's `<service>-<stage>-<key>`. */
export const deployedName = (config: PrintedConfig, stage: string, key: string, fn: PrintedFunction): string =>
  fn.name ?? `${serviceName(config)}-${stage}-${key}`;

/** Extracts the default-bus EventBridge patterns of every function from a resolved config. */
export function rulesFromConfig(config: PrintedConfig, stage: string): FunctionRule[] {
  const rules: FunctionRule[] = [];
  for (const [key, fn] of Object.entries(config.functions ?? {})) {
    for (const [index, event] of (fn.events ?? []).entries()) {
      const bridge = event.eventBridge;
      if (!bridge?.pattern || (bridge.eventBus && bridge.eventBus !== 'default')) continue;
      rules.push({
        name: `${key}-${index}`,
        functionName: deployedName(config, stage, key, fn),
        pattern: bridge.pattern,
      });
    }
  }
  return rules;
}

const UNIT_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/**
 * The period of an EventBridge rate expression (`rate(1 minute)`, `rate(5 minutes)`, `rate(2 hours)`),
 * or undefined when it is not one (a cron expression, or a malformed rate EventBridge would refuse).
 */
export function parseRate(expression: string): number | undefined {
  const match = /^rate\((\d+) (minute|hour|day)(s?)\)$/.exec(expression.trim());
  if (!match) return undefined;
  const count = Number(match[1]);
  // EventBridge wants the singular for 1 and the plural otherwise.
  if (count < 1 || (count === 1) === (match[3] === 's')) return undefined;
  return count * (UNIT_MS[match[2] as string] as number);
}

/**
 * Extracts every enabled `schedule` event of every function from a resolved config. serverless-offline
 * runs none of them, so the local stack invokes the functions itself; cron expressions are reported, not run.
 */
export function schedulesFromConfig(
  config: PrintedConfig,
  stage: string,
): { schedules: FunctionSchedule[]; unsupported: string[] } {
  const schedules: FunctionSchedule[] = [];
  const unsupported: string[] = [];
  for (const [key, fn] of Object.entries(config.functions ?? {})) {
    for (const [index, event] of (fn.events ?? []).entries()) {
      const schedule = event.schedule;
      if (schedule === undefined) continue;
      const spec = typeof schedule === 'string' ? { rate: schedule } : schedule;
      if (spec.enabled === false) continue;
      const expressions = Array.isArray(spec.rate) ? spec.rate : spec.rate ? [spec.rate] : [];
      for (const expression of expressions) {
        const rateMs = parseRate(expression);
        if (rateMs === undefined) {
          unsupported.push(`${key}: ${expression}`);
          continue;
        }
        schedules.push({
          name: spec.name ?? `${key}-${index}`,
          functionKey: key,
          functionName: deployedName(config, stage, key, fn),
          expression,
          rateMs,
          ...(spec.input !== undefined ? { input: spec.input } : {}),
        });
      }
    }
  }
  return { schedules, unsupported };
}

export type { InvokeResult };

/**
 * Calls the Invoke API (RequestResponse) of a Lambda endpoint. node:http rather than fetch: a scheduled
 * function may run for minutes, longer than fetch waits for response headers.
 */
export function invokeFunction(lambdaEndpoint: string, functionName: string, payload: unknown): Promise<InvokeResult> {
  const url = new URL(`/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`, lambdaEndpoint);
  const body = JSON.stringify(payload);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-amz-invocation-type': 'RequestResponse',
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('error', reject);
        response.on('end', () => {
          const header = response.headers['x-amz-function-error'];
          const functionError = Array.isArray(header) ? header[0] : header;
          const status = response.statusCode ?? 0;
          const error = functionError || (status >= 400 ? `HTTP ${status}` : undefined);
          resolve({ ok: error === undefined, body: text, ...(error ? { error } : {}) });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The event an EventBridge schedule sends its target (or the rule's constant input when it has one). */
export function scheduledEvent(schedule: FunctionSchedule, now: Date, region = 'us-east-1'): unknown {
  if (schedule.input !== undefined) return schedule.input;
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [`arn:aws:events:${region}:000000000000:rule/${schedule.name}`],
    detail: {},
  };
}

export interface SchedulerOptions {
  /** Invokes a function with a payload (the Invoke API in the local stack). */
  invoke: (functionName: string, payload: unknown) => Promise<InvokeResult>;
  /** The local period of a schedule (its rate, or a scaled one). */
  intervalMs: (schedule: FunctionSchedule) => number;
  /** One line per invocation: what it returned, or why it failed. */
  log: (line: string) => void;
  now?: () => Date;
}

/**
 * Runs the schedules the way EventBridge would, from now on: each function at once, then every interval.
 * A failed invocation is one log line, never an exception; a schedule whose previous invocation still runs
 * skips its turn (locally one at a time is easier to follow). Returns a function that stops every timer.
 */
export function startSchedules(schedules: FunctionSchedule[], options: SchedulerOptions): () => void {
  const now = options.now ?? (() => new Date());
  const timers: NodeJS.Timeout[] = [];
  for (const schedule of schedules) {
    let running = false;
    const fire = async () => {
      if (running) {
        options.log(`${schedule.functionKey}: previous invocation still running; this turn skipped`);
        return;
      }
      running = true;
      const started = Date.now();
      try {
        const result = await options.invoke(schedule.functionName, scheduledEvent(schedule, now()));
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        const summary = result.body.replace(/\s+/g, ' ').slice(0, 200);
        options.log(
          result.ok
            ? `${schedule.functionKey} (${schedule.expression}) done in ${seconds} s: ${summary}`
            : `${schedule.functionKey} (${schedule.expression}) failed (${result.error}) in ${seconds} s: ${summary}`,
        );
      } catch (error) {
        options.log(`${schedule.functionKey} (${schedule.expression}) not invoked: ${(error as Error).message}`);
      } finally {
        running = false;
      }
    };
    void fire();
    timers.push(setInterval(() => void fire(), options.intervalMs(schedule)));
  }
  return () => {
    for (const timer of timers) clearInterval(timer);
  };
}
