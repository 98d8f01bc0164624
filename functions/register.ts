import { loadRegistrarConfig } from '../lib/config';
import { taskEventHandler } from './task-event-handler';

/**
 * The register queue's consumer: running tasks (the running rule) and their health re-checks, in batches; also a
 * task event invoked directly (`registrar replay-dlq`).
 */
export const handler = taskEventHandler(loadRegistrarConfig());
