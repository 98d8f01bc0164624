import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { BusEvent, EventPattern, EventTarget } from './emulator';

const run = promisify(execFile);

/** One function's EventBridge subscription, as serverless.yml declares it once osls has resolved it. */
export interface FunctionRule {
  /** `<function key>-<index>`, unique per subscription. */
  name: string;
  /** The deployed Lambda name, `<service>-<stage>-<function>` unless the function names itself. */
  functionName: string;
  pattern: EventPattern;
}

interface PrintedConfig {
  service?: string | { name?: string };
  functions?: Record<
    string,
    { name?: string; events?: { eventBridge?: { pattern?: EventPattern; eventBus?: string } }[] }
  >;
}

/**
 * Reads the EventBridge rules from `osls print --format json`, so the pattern applied locally is the
 * pattern that deploys (params and variables resolved by the framework itself). Only default-bus rules
 * are kept: the local bus is the default bus.
 */
export async function loadFunctionRules(stage: string, cwd: string): Promise<FunctionRule[]> {
  const { stdout } = await run('npx', ['osls', 'print', '--format', 'json', '--stage', stage], {
    cwd,
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
  });
  return rulesFromConfig(JSON.parse(stdout) as PrintedConfig, stage);
}

/** Extracts the default-bus EventBridge patterns of every function from a resolved config. */
export function rulesFromConfig(config: PrintedConfig, stage: string): FunctionRule[] {
  const service = typeof config.service === 'string' ? config.service : (config.service?.name ?? 'service');
  const rules: FunctionRule[] = [];
  for (const [key, fn] of Object.entries(config.functions ?? {})) {
    for (const [index, event] of (fn.events ?? []).entries()) {
      const bridge = event.eventBridge;
      if (!bridge?.pattern || (bridge.eventBus && bridge.eventBus !== 'default')) continue;
      rules.push({
        name: `${key}-${index}`,
        functionName: fn.name ?? `${service}-${stage}-${key}`,
        pattern: bridge.pattern,
      });
    }
  }
  return rules;
}

/**
 * A target that invokes the function through serverless-offline's Lambda endpoint (the Invoke API,
 * RequestResponse). A function error (`X-Amz-Function-Error`) or a 4xx/5xx is a failed attempt, which
 * the emulator retries as Lambda's asynchronous invocation would.
 */
export function lambdaInvokeTarget(lambdaEndpoint: string, functionName: string): EventTarget {
  const url = `${lambdaEndpoint}/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`;
  return async (event: BusEvent) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-amz-invocation-type': 'RequestResponse' },
      body: JSON.stringify(event),
    });
    const body = await response.text();
    const functionError = response.headers.get('x-amz-function-error');
    if (functionError || response.status >= 400) {
      throw new Error(`${functionName} failed (${functionError ?? `HTTP ${response.status}`}): ${body.slice(0, 300)}`);
    }
  };
}
