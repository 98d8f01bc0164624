/**
 * Named errors. Each carries a stable `code` (kebab-case) that logs, metrics and HTTP answers use.
 * Errors raised by AWS are not wrapped here: the register function rethrows them so Lambda retries.
 */
export class RegistrarError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The environment is missing a key or holds a bad value; thrown at cold start. */
export class ConfigError extends RegistrarError {
  constructor(message: string) {
    super('invalid-config', message);
  }
}

/** An input (event, CLI file, HTTP parameter) failed validation. */
export class ValidationError extends RegistrarError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

/** A Cloud Map namespace named in configuration or a request does not exist. */
export class NamespaceNotFoundError extends RegistrarError {
  constructor(ref: string) {
    super('namespace-not-found', `Cloud Map namespace "${ref}" does not exist`);
  }
}

/** A Cloud Map asynchronous operation ended in FAIL. */
export class OperationFailedError extends RegistrarError {
  constructor(
    readonly operationId: string,
    readonly errorCode: string | undefined,
    detail: string | undefined,
  ) {
    super(
      'operation-failed',
      `Cloud Map operation ${operationId} failed: ${errorCode ?? 'unknown'} ${detail ?? ''}`.trim(),
    );
  }
}

/** A Cloud Map asynchronous operation did not finish within the bounded wait. */
export class OperationTimeoutError extends RegistrarError {
  constructor(
    readonly operationId: string,
    waitedMs: number,
  ) {
    super('operation-timeout', `Cloud Map operation ${operationId} still pending after ${waitedMs} ms`);
  }
}

/** True when `error` is an AWS SDK error with the given name (SDK v3 sets `name` to the error code). */
export function isAwsError(error: unknown, ...names: string[]): boolean {
  return error instanceof Error && names.includes(error.name);
}

/** A Cloud Map service named in a request does not exist in its namespace. */
export class ServiceNotFoundError extends RegistrarError {
  constructor(namespace: string, service: string) {
    super('service-not-found', `Cloud Map service "${service}" does not exist in namespace "${namespace}"`);
  }
}

/** Cloud Map refused a call for its rate limit; the caller should come back after `retryAfterSeconds`. */
export class UpstreamThrottledError extends RegistrarError {
  constructor(
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super('upstream-throttled', 'Cloud Map is throttling discovery calls; retry later', options);
  }
}

/** A Cloud Map call failed for a reason other than throttling or a missing resource. */
export class UpstreamError extends RegistrarError {
  constructor(options?: { cause?: unknown }) {
    super('upstream-error', 'Cloud Map did not answer the discovery call', options);
  }
}

/** No route of the HTTP lookup API matches the request's method and path (not echoed: it is caller input). */
export class RouteNotFoundError extends RegistrarError {
  constructor() {
    super('route-not-found', 'No lookup route matches this method and path');
  }
}
