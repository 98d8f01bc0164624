/**
 * The leaving queue's consumer: leaving tasks (the leaving rule), in batches. The same handler as the register
 * function's (any task event works in either); a function of its own for its own queue and reservation, so no
 * registration work delays a deregistration.
 */
export { handler } from './register';
