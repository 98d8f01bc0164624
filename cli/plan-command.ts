import { createEcsClient } from '../lib/aws-clients';
import { loadPlanConfig } from '../lib/config';
import { EcsTaskSource } from '../lib/ecs/ecs-task-source';
import {
  type DeregisterPlan,
  type IgnorePlan,
  type Plan,
  planTaskEvent,
  type RegisterPlan,
  type Registration,
  type TaskFacts,
} from '../lib/plan';
import { gatherFacts } from '../lib/registrar';
import { parseTaskEvent } from '../lib/task-event';
import { ENDPOINT_HELP, endpointClientOptions, parseEndpoint } from './endpoint';
import { type CliIo, parseArgs, readJsonInput, UsageError } from './io';

export const PLAN_USAGE = `registrar plan EVENT.json|- [--namespace NAME] [--live] [--endpoint URL]

Prints, as one JSON object, what the registrar would do with an ECS Task State Change event:
register (with every attribute), deregister, or ignore (with a stable reason code).
By default it uses the event alone (no AWS calls, no tags, the configured default port);
--live also reads the task, its tags and its task definition from ECS (standard AWS environment,
--endpoint for an emulator).
${ENDPOINT_HELP}
Configuration comes from the same variables as the function
(NAMESPACE, DEFAULT_PORT, DNS_RECORDS, OWNER_ID); --namespace overrides NAMESPACE.
Exit codes: 0 a plan was printed (ignore included), 2 unreadable input or not an EventBridge event.`;

/** A registration as `registrar plan` prints it: the primary registration's fields at the top level. */
export type PrintedRegisterPlan = Omit<RegisterPlan, 'registrations'> &
  Registration & { registrations?: RegisterPlan['registrations'] };
/** A deregistration as `registrar plan` prints it: the primary service at the top level. */
export type PrintedDeregisterPlan = Omit<DeregisterPlan, 'registrations'> &
  DeregisterPlan['registrations'][0] & { registrations?: DeregisterPlan['registrations'] };
export type PrintedPlan = PrintedRegisterPlan | PrintedDeregisterPlan | IgnorePlan;

/**
 * A plan in the form the README documents for `registrar plan`: the primary registration (service,
 * instanceId, attributes) at the top level, and `registrations`, the primary included, only when the task
 * has several.
 */
export function printedPlan(plan: Plan): PrintedPlan {
  if (plan.action === 'ignore') return plan;
  if (plan.action === 'deregister') {
    const { action, namespace, registrations, version, ...rest } = plan;
    const [{ service, instanceId }] = registrations;
    const several = registrations.length > 1 ? { registrations } : {};
    return { action, namespace, service, instanceId, version, ...several, ...rest };
  }
  const { action, namespace, registrations, version, ...rest } = plan;
  const [{ service, instanceId, attributes }] = registrations;
  const several = registrations.length > 1 ? { registrations } : {};
  return { action, namespace, service, instanceId, version, attributes, ...several, ...rest };
}

/** `registrar plan`: the planner as a command. */
export async function planCommand(args: string[], io: CliIo): Promise<number> {
  const { positional, values, switches } = parseArgs(args, {
    values: ['namespace', 'endpoint'],
    switches: ['live', 'help'],
  });
  if (switches.has('help')) {
    io.stdout.write(`${PLAN_USAGE}\n`);
    return 0;
  }
  const [path] = positional;
  if (!path || positional.length > 1)
    throw new UsageError('expected one event file (or - for stdin); registrar plan --help shows the options');
  const clientOptions = endpointClientOptions(parseEndpoint(values.endpoint), io.env);
  const namespace = values.namespace ?? io.env.NAMESPACE;
  if (!namespace) throw new UsageError('no namespace: set NAMESPACE or pass --namespace NAME');
  const config = loadPlanConfig({ ...io.env, NAMESPACE: namespace });

  const input = await readJsonInput(path, io);
  const parsed = parseTaskEvent(input);
  let plan: Plan;
  if (!parsed.ok) {
    if (parsed.reason === 'not-an-eventbridge-event') throw new UsageError(`${path}: ${parsed.message}`);
    plan = { action: 'ignore', reason: parsed.reason, message: parsed.message };
  } else {
    let facts: TaskFacts = {};
    if (switches.has('live')) {
      const client = createEcsClient(clientOptions);
      facts = await gatherFacts(parsed.event, new EcsTaskSource(client, { serviceTagsTtlMs: 0 }));
    }
    plan = planTaskEvent(parsed.event, facts, config);
  }
  io.stdout.write(`${JSON.stringify(printedPlan(plan))}\n`);
  return 0;
}
