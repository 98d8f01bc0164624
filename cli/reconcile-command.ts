import { loadReconcileConfig } from '../lib/config';
import { ItemsFailedError } from '../lib/errors';
import { reconcile } from '../lib/reconcile';
import { createRegistrarDeps } from '../lib/registrar-runtime';
import { ENDPOINT_HELP, endpointClientOptions, parseEndpoint } from './endpoint';
import { type CliIo, parseArgs, UsageError } from './io';

export const RECONCILE_USAGE = `registrar reconcile [--dry-run] [--endpoint URL] [--namespace NAME] [--cluster NAME]... [--stage STAGE] [--max-deletes N] [--force]

Makes Cloud Map equal to what ECS runs, for the instances this project owns: registers running tasks
that are missing, fixes a wrong address or port, deregisters instances whose task is gone (each
re-checked with DescribeTasks first). It never touches an instance it does not own; if a listing fails,
or comes back empty while instances exist, it deletes nothing; it deletes at most --max-deletes
(default RECONCILE_MAX_DELETES, 50) unless --force.
Credentials and region come from the standard AWS environment; --endpoint serves ECS, Cloud Map and
DynamoDB (the local stack: http://127.0.0.1:4566).
${ENDPOINT_HELP}
The task table is TASK_TABLE, else ecs-cloudmap-registrar-<stage>-tasks (--stage, default dev; the local
stack's is ecs-cloudmap-registrar-local-tasks). The namespace is NAMESPACE or --namespace.
Ends with one JSON line {"registered":n,"deregistered":n,"updated":n,"unchanged":n,"failed":n,...}.
Exit codes: 0 done, 1 some items failed (the rest was done; the next run retries them), 2 usage.`;

/** A one-line progress bar, redrawn in place on a terminal. */
function progressBar(stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }) {
  if (!stream.isTTY) return undefined;
  return (done: number, total: number) => {
    if (total < 20) return;
    const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - 30));
    const filled = Math.round((done / total) * width);
    stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
    if (done === total) stream.write('\n');
  };
}

/** `registrar reconcile`: one reconciliation, from an operator's machine. */
export async function reconcileCommand(args: string[], io: CliIo): Promise<number> {
  const { positional, values, switches, lists } = parseArgs(args, {
    values: ['endpoint', 'namespace', 'stage', 'max-deletes'],
    switches: ['dry-run', 'force', 'help'],
    lists: ['cluster'],
  });
  if (switches.has('help')) {
    io.stdout.write(`${RECONCILE_USAGE}\n`);
    return 0;
  }
  if (positional.length > 0) throw new UsageError(`unexpected argument "${positional[0]}"`);
  const clientOptions = endpointClientOptions(parseEndpoint(values.endpoint), io.env);
  const env = {
    ...io.env,
    ...(values.namespace ? { NAMESPACE: values.namespace } : {}),
    ...(values['max-deletes'] !== undefined ? { RECONCILE_MAX_DELETES: values['max-deletes'] } : {}),
    TASK_TABLE: io.env.TASK_TABLE || `ecs-cloudmap-registrar-${values.stage ?? 'dev'}-tasks`,
  };
  const config = loadReconcileConfig(env);
  // Missing services are created in-process, with the operator's own credentials, whatever SERVICE_CREATOR_FUNCTION
  // says: that function is the deployed writers' way to create one.
  const { serviceCreatorFunction: _deployedOnly, ...inProcess } = config;
  const deps = createRegistrarDeps(inProcess, { clients: clientOptions });
  const clusters = lists.cluster?.length ? lists.cluster : config.clusters;
  const onProgress = progressBar(io.stderr as NodeJS.WritableStream & { isTTY?: boolean });
  const summary = await reconcile(deps, {
    maxDeletes: config.maxDeletes,
    dryRun: switches.has('dry-run'),
    force: switches.has('force'),
    ...(clusters ? { clusters } : {}),
    ...(onProgress ? { onProgress } : {}),
  });
  io.stdout.write(`${JSON.stringify(summary)}\n`);
  if (summary.failed === 0) return 0;
  // Each failed item is retried by the next run; the exit code tells the operator's script there are some.
  io.stderr.write(
    `registrar reconcile: ${new ItemsFailedError('reconcile', summary.failed, summary.failedByReason).message}\n`,
  );
  return 1;
}
