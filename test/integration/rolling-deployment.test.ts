import { registerPattern } from '../../support/pipeline';
import { RECOMMENDED, type RollingRun, runRollingDeployment } from '../../support/rolling';

/**
 * The seed's promise through a rolling deployment: a service of 10 live tasks moved to revision 2 by
 * UpdateService (minimumHealthyPercent 100, maximumPercent 200: all new tasks start, and each old one is
 * stopped as a new one runs; https://docs.aws.amazon.com/AmazonECS/latest/userguide/deployment-type-ecs.html)
 * while callers call it through the lookup API (health=healthy, Cache-Control honoured) and through DNS
 * (TTL honoured). With the README's draining advice (the app serves 20 s after SIGTERM, which ECS sends at
 * STOPPING, within the 30 s stopTimeout;
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_StopTask.html) no request fails.
 *
 * Time scale 0.1: the run is about 60 s of AWS time in 6 s; TTLs, max-age, the lookup's caches, drain
 * and stopTimeout are scaled alike (support/rolling.ts).
 */
jest.setTimeout(60_000);

let run: RollingRun;

beforeAll(async () => {
  run = await runRollingDeployment({
    tasks: 10,
    timeScale: 0.1,
    variants: [RECOMMENDED],
    ratePerPath: 150,
    callers: 5,
    pattern: registerPattern(),
  });
});

const path = (kind: 'lookup' | 'dns') => {
  const found = run.paths.find((p) => p.path === kind);
  if (!found) throw new Error(`no ${kind} path in the run`);
  return found;
};

describe.each(['lookup', 'dns'] as const)('a 10-task rolling deployment called through %s', (kind) => {
  it('answers every request, from old tasks and then from new ones', () => {
    const p = path(kind);
    expect(p.failures).toEqual({ refused: 0, reset: 0, timeout: 0, http5xx: 0, error: 0, noAddress: 0 });
    // Requests were made through the whole deployment, and both revisions answered.
    expect(p.requests).toBeGreaterThan(500);
    expect(p.answersByTaskDefinition['api:1']).toBeGreaterThan(0);
    expect(p.answersByTaskDefinition['api:2']).toBeGreaterThan(0);
    expect(p.oldTasksAnswered).toBe(10);
    expect(p.newTasksAnswered).toBe(10);
  });
});

describe('how stale the callers get', () => {
  it('lookup callers leave a task within the two caches (1 s revision check, max-age 1 s) of its deregistration', () => {
    // Usually before SIGTERM (STOPPING comes 5 s after the stop decision), but not always: the deregistration
    // itself (event, register function, Cloud Map operation) takes 2-4 s, so the drain covers the rest.
    expect(path('lookup').longestAnswerAfterDeregistrationMs).toBeLessThan(4000);
  });

  it('DNS callers leave a task within the record TTL (10 s) of its deregistration, inside the 20 s drain', () => {
    // A TTL of 10 s outlasts the 5 s from the stop decision to SIGTERM, so DNS callers do reach draining
    // apps (answersFromStoppingTasks > 0 is expected): the drain time is what keeps those requests whole.
    expect(path('dns').longestAnswerAfterDeregistrationMs).toBeLessThan(13_000);
    expect(path('dns').longestAnswerAfterDeregistrationMs).toBeGreaterThan(0);
  });
});

describe('the deployment itself', () => {
  it('replaces all 10 tasks, each new app listening by the time ECS says RUNNING', () => {
    const [deployment] = run.deployments;
    expect(deployment?.notListeningAtRunning).toBe(0);
    expect(deployment?.runningToRegisteredMs.reached).toBe(10);
    expect(deployment?.durationMs).toBeGreaterThan(40_000);
  });

  it('keeps all 10 tasks registered throughout: old tasks stop only once new ones count as healthy', () => {
    expect(run.deployments[0]?.fewestRegistered).toBe(10);
  });
});
