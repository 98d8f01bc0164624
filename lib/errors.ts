/**
 * Named errors. Each carries a stable `code` (kebab-case) that logs, metrics and HTTP answers use, and takes the
 * error it stands for as `cause`. Callers tell them apart with `instanceof`, never by comparing codes.
 * Errors raised by AWS are not wrapped here: the register function rethrows them so Lambda retries.
 */
export class RegistrarError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The environment is missing a key or holds a bad value; thrown at cold start. */
export class ConfigError extends RegistrarError {
  constructor(message: string, options?: ErrorOptions) {
    super('invalid-config', message, options);
  }
}

/** An input (event, CLI file, HTTP parameter) failed validation. */
export class ValidationError extends RegistrarError {
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** A Cloud Map namespace named in configuration or a request does not exist. */
export class NamespaceNotFoundError extends RegistrarError {
  /** `tried` says how `ref` was looked up (as an id, an ARN or a name), for the operator who mistyped it. */
  constructor(ref: string, tried?: string, options?: ErrorOptions) {
    super('namespace-not-found', `Cloud Map namespace "${ref}" does not exist${tried ? ` (${tried})` : ''}`, options);
  }
}

/**
 * The Cloud Map service a task would be registered in exists but was not created by this project (no
 * `managed-by=<ownerId>` tag): ECS's own service registries, Service Connect or another tool own it.
 * Retrying cannot help; an operator must rename one of the two or remove the other's service.
 */
export class ServiceNotManagedError extends RegistrarError {
  constructor(
    readonly namespace: string,
    readonly service: string,
    readonly ownerId: string,
    options?: ErrorOptions,
  ) {
    super(
      'service-not-managed',
      `Cloud Map service "${service}" in namespace "${namespace}" was not created by ${ownerId} (no managed-by=${ownerId} tag); ` +
        "left untouched: give the ECS service another Cloud Map name (the discovery:name tag) or remove the other tool's registry",
      options,
    );
  }
}

/** A Cloud Map asynchronous operation ended in FAIL. */
export class OperationFailedError extends RegistrarError {
  constructor(
    readonly operationId: string,
    readonly errorCode: string | undefined,
    detail: string | undefined,
    options?: ErrorOptions,
  ) {
    super(
      'operation-failed',
      `Cloud Map operation ${operationId} failed: ${errorCode ?? 'unknown'} ${detail ?? ''}`.trim(),
      options,
    );
  }
}

/**
 * A registration written without waiting (lib/registrar.ts, `confirmLater`) that failed after some of its writes were
 * sent (a task with several ports): `confirm` holds those writes, which still need their confirmation, since the
 * event's retry cannot see an instance whose operation is pending. The error it stands for is the `cause`.
 */
export class RegistrationInterruptedError<Confirm = unknown> extends RegistrarError {
  constructor(
    readonly confirm: Confirm,
    cause: unknown,
  ) {
    super(
      'registration-interrupted',
      `registration failed after some of its writes: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

/** A Cloud Map asynchronous operation did not finish within the bounded wait. */
export class OperationTimeoutError extends RegistrarError {
  constructor(
    readonly operationId: string,
    waitedMs: number,
    options?: ErrorOptions,
  ) {
    super('operation-timeout', `Cloud Map operation ${operationId} still pending after ${waitedMs} ms`, options);
  }
}

/** True when `error` is an AWS SDK error with the given name (SDK v3 sets `name` to the error code). */
export function isAwsError(error: unknown, ...names: string[]): boolean {
  return error instanceof Error && names.includes(error.name);
}

/** A Cloud Map service named in a request does not exist in its namespace. */
export class ServiceNotFoundError extends RegistrarError {
  constructor(namespace: string, service: string, options?: ErrorOptions) {
    super('service-not-found', `Cloud Map service "${service}" does not exist in namespace "${namespace}"`, options);
  }
}

/** Cloud Map refused a call for its rate limit; the caller should come back after `retryAfterSeconds`. */
export class UpstreamThrottledError extends RegistrarError {
  constructor(
    readonly retryAfterSeconds: number,
    options?: ErrorOptions,
  ) {
    super('upstream-throttled', 'Cloud Map is throttling discovery calls; retry later', options);
  }
}

/** A Cloud Map call failed for a reason other than throttling or a missing resource. */
export class UpstreamError extends RegistrarError {
  constructor(options?: ErrorOptions) {
    super('upstream-error', 'Cloud Map did not answer the discovery call', options);
  }
}

/** No route of the HTTP lookup API matches the request's method and path (not echoed: it is caller input). */
export class RouteNotFoundError extends RegistrarError {
  constructor(options?: ErrorOptions) {
    super('route-not-found', 'No lookup route matches this method and path', options);
  }
}

/**
 * ECS has no active cluster of that name in this account and region (ClusterNotFoundException): it was
 * deleted, or it lives elsewhere. A reconcile or sweep skips it; the answer cannot tell which.
 */
export class ClusterNotFoundError extends RegistrarError {
  constructor(
    readonly cluster: string,
    options?: ErrorOptions,
  ) {
    super('cluster-not-found', `ECS cluster "${cluster}" was not found in this account and region`, options);
  }
}

/**
 * Some items of a reconcile or health sweep failed; everything else of the run was done. Thrown by the
 * scheduled function at the end, so that its Errors alarm fires; the counts name the reasons.
 */
export class ItemsFailedError extends RegistrarError {
  constructor(
    readonly run: string,
    readonly failed: number,
    readonly failedByReason: Record<string, number>,
    options?: ErrorOptions,
  ) {
    const reasons = Object.entries(failedByReason)
      .map(([reason, count]) => `${reason}: ${count}`)
      .join(', ');
    super('items-failed', `${run}: ${failed} item(s) failed (${reasons}); the rest of the run was done`, options);
  }
}
