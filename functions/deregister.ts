import { loadDeregisterConfig } from '../lib/config';
import { taskEventHandler } from './task-event-handler';

/**
 * The leaving queue's consumer: leaving tasks (the leaving rule), in batches, with a queue, a reservation and a
 * re-check queue of its own, so no registration work delays a deregistration. Any task event works here, as in the
 * register function.
 */
export const handler = taskEventHandler(loadDeregisterConfig());
