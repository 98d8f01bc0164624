import { promises as dns } from 'node:dns';
import { Agent } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type CallOutcome, callTask, pickRandom, type Target } from '../local/call';

/**
 * The callers of the rolling-deployment run (support/rolling.ts), in a process of their own: the pipeline's
 * process serves the task apps, the lookup API, the emulator and the register function, and callers sharing
 * its event loop would time out on its bursts of work rather than on anything a caller would meet. The
 * parent forks this file (`--import tsx`), sends a CallerPlan, later `stop`, and receives one PathRecord per
 * path. Times are absolute (performance.timeOrigin + performance.now()), comparable across the processes.
 */

/** How a caller finds the tasks of a service. */
export type PathKind = 'lookup' | 'dns';

/** Why a request failed. */
export type FailureKind = 'refused' | 'reset' | 'timeout' | 'http5xx' | 'error' | 'noAddress';

/** One path: a service called through the lookup API or through DNS, by `callers` callers at `rate`. */
export interface CallerPath {
  kind: PathKind;
  /** lookup: `<lookup API>/services/<name>?health=healthy`. */
  lookupUrl?: string;
  /** dns: `<service>.<namespace>`, asked of 127.0.0.1:`dnsPort`. */
  dnsName?: string;
  dnsPort?: number;
  /** The port called on each address (A records carry none). */
  port: number;
  /** The Host header of each call. */
  host: string;
}

export interface CallerPlan {
  paths: CallerPath[];
  /** Multiplies every TTL and max-age the callers honour. */
  timeScale: number;
  /** Requests per real second on each path. */
  rate: number;
  /** Independent callers per path, each with its own cache. */
  callers: number;
  /** Real ms after which a call counts as timed out. */
  requestTimeoutMs: number;
}

/** What the callers of one path saw; times are absolute ms. */
export interface PathRecord {
  requests: number;
  failures: Record<FailureKind, number>;
  /** Why discovery gave no address (the `noAddress` failures), with how often. */
  discoveryFailures: Record<string, number>;
  /** Answers whose app was draining: it had received SIGTERM, which the emulator sends at STOPPING. */
  answersFromStoppingTasks: number;
  answersByTaskDefinition: Record<string, number>;
  /** taskArn -> first and last successful answer. */
  firstAnswer: [string, number][];
  lastAnswer: [string, number][];
  /** instance id (lookup) or address (dns) -> first and last time it was in a fetched answer. */
  firstSeen: [string, number][];
  lastSeen: [string, number][];
  /** Discovery answers fetched (lookup GETs, DNS queries). */
  discoveryFetches: number;
  /** The first failed calls to an address (at most FAILURE_SAMPLES), to tell which task failed and when. */
  failureSamples: FailureSample[];
}

/** One failed call: how, to which address, when (absolute ms). */
export interface FailureSample {
  kind: FailureKind;
  address: string;
  at: number;
}

const FAILURE_SAMPLES = 200;

/** What the parent receives after `stop`. */
export interface CallerReport {
  paths: PathRecord[];
  /** p99 of this process's event loop delay while calling (real ms). */
  eventLoopDelayP99Ms: number;
}

/** Absolute time in ms, comparable with the parent's. */
export const absoluteNow = () => performance.timeOrigin + performance.now();

/** Reads `max-age` (seconds) from a Cache-Control header; 0 when absent. */
export function maxAgeSeconds(header: string | null): number {
  const match = /(?:^|,)\s*max-age=(\d+)/i.exec(header ?? '');
  return match ? Number(match[1]) : 0;
}

/** A discovery source with one caller's cache: it asks again only when what it holds has expired. */
interface Source {
  targets(): Promise<Target[]>;
  fetches(): number;
}

/**
 * Caches what `fetchTargets` returns until the time it gives; concurrent requests share one fetch. The first
 * answer is kept for a random part of its lifetime, as if the caller had started at some other moment: the
 * callers all start together here, and caches that expire in step would all drop an address at once.
 */
function cachingSource(fetchTargets: () => Promise<{ targets: Target[]; validMs: number }>): Source {
  let held: { targets: Target[]; until: number } | undefined;
  let pending: Promise<Target[]> | undefined;
  let count = 0;
  return {
    targets: () => {
      if (held && performance.now() < held.until) return Promise.resolve(held.targets);
      pending ??= (async () => {
        count += 1;
        const { targets, validMs } = await fetchTargets();
        held = { targets, until: performance.now() + validMs * (count === 1 ? Math.random() : 1) };
        return targets;
      })().finally(() => {
        pending = undefined;
      });
      return pending;
    },
    fetches: () => count,
  };
}

/** One caller's view through the lookup API, kept for the answer's Cache-Control max-age (scaled). */
function lookupSource(url: string, plan: CallerPlan, seen: (keys: string[]) => void): Source {
  return cachingSource(async () => {
    const response = await fetch(url, { signal: AbortSignal.timeout(plan.requestTimeoutMs) });
    if (response.status !== 200) throw new Error(`lookup answered ${response.status}`);
    const body = (await response.json()) as { instances: { id: string; ipv4?: string; port?: number }[] };
    seen(body.instances.map((i) => i.id));
    return {
      targets: body.instances.flatMap((i) => (i.ipv4 && i.port ? [{ address: i.ipv4, port: i.port }] : [])),
      validMs: maxAgeSeconds(response.headers.get('cache-control')) * 1000 * plan.timeScale,
    };
  });
}

/** One caller's view through DNS: A records, kept for the smallest TTL of the answer (scaled). */
function dnsSource(path: CallerPath, plan: CallerPlan, seen: (keys: string[]) => void): Source {
  const resolver = new dns.Resolver({ timeout: plan.requestTimeoutMs, tries: 1 });
  resolver.setServers([`127.0.0.1:${path.dnsPort}`]);
  return cachingSource(async () => {
    const records = await resolver.resolve4(path.dnsName ?? '', { ttl: true });
    seen(records.map((r) => r.address));
    return {
      targets: records.map((r) => ({ address: r.address, port: path.port, ttl: r.ttl })),
      validMs: Math.min(...records.map((r) => r.ttl)) * 1000 * plan.timeScale,
    };
  });
}

function failureOf(outcome: CallOutcome): FailureKind | undefined {
  if (outcome.kind === 'answered') return outcome.status >= 500 ? 'http5xx' : undefined;
  return outcome.kind;
}

/** The calls of one path: counters, and when each task was first seen and first and last answered. */
class PathRecorder {
  private requests = 0;
  private readonly failures: Record<FailureKind, number> = {
    refused: 0,
    reset: 0,
    timeout: 0,
    http5xx: 0,
    error: 0,
    noAddress: 0,
  };
  private readonly discoveryFailures: Record<string, number> = {};
  private answersFromStoppingTasks = 0;
  private readonly answersByTaskDefinition: Record<string, number> = {};
  private readonly firstAnswer = new Map<string, number>();
  private readonly lastAnswer = new Map<string, number>();
  private readonly firstSeen = new Map<string, number>();
  private readonly lastSeen = new Map<string, number>();
  private readonly failureSamples: FailureSample[] = [];

  seen(keys: string[]): void {
    const now = absoluteNow();
    for (const key of keys) {
      if (!this.firstSeen.has(key)) this.firstSeen.set(key, now);
      this.lastSeen.set(key, now);
    }
  }

  noAddress(reason: string): void {
    this.requests += 1;
    this.failures.noAddress += 1;
    this.discoveryFailures[reason] = (this.discoveryFailures[reason] ?? 0) + 1;
  }

  record(outcome: CallOutcome, target: Target): void {
    this.requests += 1;
    const failure = failureOf(outcome);
    if (failure) {
      this.failures[failure] += 1;
      if (this.failureSamples.length < FAILURE_SAMPLES)
        this.failureSamples.push({ kind: failure, address: target.address, at: absoluteNow() });
      return;
    }
    if (outcome.kind !== 'answered') return;
    const task = outcome.task;
    if (task?.draining) this.answersFromStoppingTasks += 1;
    const definition = task?.taskDefinition ?? 'unknown';
    this.answersByTaskDefinition[definition] = (this.answersByTaskDefinition[definition] ?? 0) + 1;
    if (task?.taskArn) {
      const now = absoluteNow();
      if (!this.firstAnswer.has(task.taskArn)) this.firstAnswer.set(task.taskArn, now);
      this.lastAnswer.set(task.taskArn, now);
    }
  }

  report(fetches: number): PathRecord {
    return {
      requests: this.requests,
      failures: this.failures,
      discoveryFailures: this.discoveryFailures,
      answersFromStoppingTasks: this.answersFromStoppingTasks,
      answersByTaskDefinition: this.answersByTaskDefinition,
      firstAnswer: [...this.firstAnswer],
      lastAnswer: [...this.lastAnswer],
      firstSeen: [...this.firstSeen],
      lastSeen: [...this.lastSeen],
      discoveryFetches: fetches,
      failureSamples: this.failureSamples,
    };
  }
}

/** Calls one path at `plan.rate` requests per real second, open loop, round-robin over its callers. */
function startPath(path: CallerPath, plan: CallerPlan) {
  const recorder = new PathRecorder();
  const seen = (keys: string[]) => recorder.seen(keys);
  const sources = Array.from({ length: plan.callers }, () =>
    path.kind === 'lookup' ? lookupSource(path.lookupUrl ?? '', plan, seen) : dnsSource(path, plan, seen),
  );
  // Each caller process keeps connections open, as an HTTP client library does; a draining app closes them.
  const agent = new Agent({ keepAlive: true, maxSockets: 8, timeout: 2000 });
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  let sent = 0;
  let stopped = false;
  const one = async (source: Source) => {
    let targets: Target[];
    try {
      targets = await source.targets();
    } catch (error) {
      return recorder.noAddress(error instanceof Error ? error.message : String(error));
    }
    const target = pickRandom(targets);
    if (!target) return recorder.noAddress('an answer without addresses');
    let outcome: CallOutcome;
    try {
      outcome = await callTask(target, '/rolling', path.host, { timeoutMs: plan.requestTimeoutMs, agent });
    } catch (error) {
      // The loopback guard refused the address before any connection: a failed request, counted, never a crash.
      outcome = { kind: 'error', message: error instanceof Error ? error.message : String(error), ms: 0 };
    }
    recorder.record(outcome, target);
  };
  const tick = () => {
    if (stopped) return;
    const due = Math.floor(((performance.now() - started) / 1000) * plan.rate);
    for (; sent < due; sent++) {
      const call = one(sources[sent % sources.length] as Source).finally(() => inFlight.delete(call));
      inFlight.add(call);
    }
    setTimeout(tick, 2);
  };
  tick();
  return {
    stop: async (): Promise<PathRecord> => {
      stopped = true;
      await Promise.all([...inFlight]);
      agent.destroy();
      return recorder.report(sources.reduce((n, s) => n + s.fetches(), 0));
    },
  };
}

/** Runs the plan until told to stop; returns what each path saw. */
export function startCallers(plan: CallerPlan): { stop(): Promise<CallerReport> } {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const running = plan.paths.map((path) => startPath(path, plan));
  return {
    stop: async () => {
      const paths = await Promise.all(running.map((r) => r.stop()));
      delay.disable();
      return { paths, eventLoopDelayP99Ms: Number((delay.percentile(99) / 1e6).toFixed(1)) };
    },
  };
}

/** The child process: `{ plan }` starts the callers, `{ stop: true }` answers `{ report }` and exits. */
if (require.main === module) {
  let callers: ReturnType<typeof startCallers> | undefined;
  process.on('message', (message: { plan?: CallerPlan; stop?: boolean }) => {
    if (message.plan) {
      callers = startCallers(message.plan);
      process.send?.({ started: true });
    }
    if (message.stop && callers) {
      void callers.stop().then((report) => process.send?.({ report }, () => process.exit(0)));
    }
  });
  process.send?.({ ready: true });
}
