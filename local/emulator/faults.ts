import { AwsError } from './aws-error';
import {
  CallCounter,
  type CallCounts,
  FARGATE_LAUNCH,
  parseQuotaSetting,
  type QuotaClock,
  type QuotaService,
  type QuotaSetting,
  Quotas,
  quotaBuckets,
} from './quotas';
import { seededRandom } from './random';
import type { Input } from './wire';

/** Cloud Map writes that name one instance (`InstanceId`): those `denyInstanceIds` refuses. */
const INSTANCE_WRITES = ['RegisterInstance', 'DeregisterInstance', 'UpdateInstanceCustomHealthStatus'] as const;

/**
 * The faults knob: a share of Cloud Map calls fail, as a throttled or an unavailable service would, and
 * writes of chosen instances are denied, as an IAM policy denying them would.
 */
export interface FaultSettings {
  /** Share of calls answered 400 ThrottlingException (the SDK backs off and retries). */
  throttleRate?: number;
  /** Share of calls answered 503 ServiceUnavailableException; 1 is an outage. */
  errorRate?: number;
  /** Extra latency before each call is answered, in real milliseconds. */
  latencyMs?: number;
  /** Seed of the PRNG that picks the failing calls, so a run repeats. */
  seed?: number;
  /** Share of Cloud Map operations (GetOperation) that end in FAIL. */
  operationFailRate?: number;
  /**
   * Instance ids whose writes (RegisterInstance, DeregisterInstance, UpdateInstanceCustomHealthStatus)
   * are answered 403 AccessDeniedException, every time: a poisoned item among healthy ones.
   */
  denyInstanceIds?: string[];
  /**
   * AWS's request quotas: `"aws"` for the documented token buckets (ECS's per-category buckets, Cloud
   * Map's DiscoverInstances rates; see quotas.ts), or a list of buckets of one's own. A call over its
   * bucket answers as AWS does (ThrottlingException, or RequestLimitExceeded for DiscoverInstances), and
   * the SDK retries it. Buckets refill on the emulator's simulated clock (at time scale 0.1, ten times
   * faster in real time); setting them starts them full.
   */
  quotas?: QuotaSetting;
}

/** Applies the fault settings; `{}` clears them. */
export class Faults {
  private current: FaultSettings = {};
  private random: () => number = Math.random;
  private quotas: Quotas | undefined;
  private readonly counter = new CallCounter();

  /** `clock`: where the quotas' buckets read time (default: real time at scale 1). */
  constructor(private readonly clock: QuotaClock = { realNow: () => performance.now(), scale: () => 1 }) {}

  get settings(): FaultSettings {
    const { denyInstanceIds, quotas, ...rest } = this.current;
    return {
      ...rest,
      ...(denyInstanceIds ? { denyInstanceIds: [...denyInstanceIds] } : {}),
      ...(quotas ? { quotas: quotas === 'aws' ? 'aws' : quotas.map((b) => ({ ...b, actions: [...b.actions] })) } : {}),
    };
  }

  /** Replaces the settings (the knob's POST). Throws RangeError for a value outside its range. */
  replace(settings: FaultSettings): FaultSettings {
    for (const key of ['throttleRate', 'errorRate', 'operationFailRate'] as const) {
      const rate = settings[key];
      if (rate !== undefined && (typeof rate !== 'number' || rate < 0 || rate > 1))
        throw new RangeError(`${key} is 0..1`);
    }
    if (settings.latencyMs !== undefined && (typeof settings.latencyMs !== 'number' || settings.latencyMs < 0)) {
      throw new RangeError('latencyMs is >= 0');
    }
    const denied = settings.denyInstanceIds;
    if (
      denied !== undefined &&
      !(Array.isArray(denied) && denied.every((id: unknown) => typeof id === 'string' && id !== ''))
    ) {
      throw new RangeError('denyInstanceIds is a list of instance ids');
    }
    const picked: FaultSettings = {};
    for (const key of ['throttleRate', 'errorRate', 'latencyMs', 'seed', 'operationFailRate'] as const) {
      if (settings[key] !== undefined) picked[key] = settings[key];
    }
    if (denied !== undefined) picked.denyInstanceIds = [...denied];
    if (settings.quotas !== undefined) picked.quotas = parseQuotaSetting(settings.quotas);
    this.current = picked;
    this.quotas = picked.quotas ? new Quotas(quotaBuckets(picked.quotas), this.clock) : undefined;
    this.random = picked.seed === undefined ? Math.random : seededRandom(picked.seed);
    return this.settings;
  }

  /**
   * Meters one call of `service`: counts it and, with quotas set, takes a token from its bucket or throws
   * the throttling error AWS answers. Runs before anything else of the call, as AWS throttles first.
   */
  admit(service: QuotaService, action: string): void {
    try {
      this.quotas?.admit(service, action);
    } catch (error) {
      this.counter.record(service, action, true);
      throw error;
    }
    this.counter.record(service, action, false);
  }

  /**
   * A Fargate task launch of the service scheduler: 0 when the quotas let it start now (or there are none), else the
   * simulated milliseconds until they do.
   */
  fargateLaunchWaitMs(): number {
    return this.quotas?.take('fargate', FARGATE_LAUNCH) ?? 0;
  }

  /** Calls metered since the last reset, by `service.Action` (the `/_local/calls` knob). */
  calls(): CallCounts {
    return this.counter.snapshot();
  }

  resetCalls(): void {
    this.counter.reset();
  }

  /** Waits the configured latency, then throws the injected error for this call, if any. */
  async apply(): Promise<void> {
    const { latencyMs = 0, errorRate = 0, throttleRate = 0 } = this.current;
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    if (errorRate === 0 && throttleRate === 0) return;
    const draw = this.random();
    if (draw < errorRate) throw new AwsError('ServiceUnavailableException', 'Service Unavailable (faults knob).', 503);
    if (draw < errorRate + throttleRate) throw new AwsError('ThrottlingException', 'Rate exceeded (faults knob).', 400);
  }

  /**
   * The Cloud Map handlers with the instance writes guarded: a write naming an instance of
   * `denyInstanceIds` is refused before it is handled (after `apply`'s rate faults, as IAM answers first).
   */
  guardInstanceWrites<H extends (input: Input) => unknown>(handlers: Record<string, H>): Record<string, H> {
    const guarded: Record<string, H> = { ...handlers };
    for (const operation of INSTANCE_WRITES) {
      const handler = handlers[operation];
      if (!handler) continue;
      guarded[operation] = ((input: Input) => {
        const id = input.InstanceId;
        if (typeof id === 'string' && this.current.denyInstanceIds?.includes(id)) {
          throw new AwsError(
            'AccessDeniedException',
            `User is not authorized to perform servicediscovery:${operation} on instance ${id} (faults knob).`,
            403,
          );
        }
        return handler(input);
      }) as H;
    }
    return guarded;
  }

  /** Whether the next finishing operation fails. */
  failOperation(): boolean {
    const rate = this.current.operationFailRate ?? 0;
    return rate > 0 && this.random() < rate;
  }
}
