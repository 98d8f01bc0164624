/**
 * An error answered in the AWS JSON 1.1 shape. The SDK reads `__type` (or the `x-amzn-ErrorType` header)
 * to pick the named exception class, and `message` for its text; extra fields (e.g. `ServiceId` on
 * ServiceAlreadyExists) become properties of that exception.
 */
export class AwsError extends Error {
  override readonly name = 'AwsError';
  /** Extra response headers (SQS's `x-amzn-query-error`). */
  headers: Record<string, string> = {};

  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  /** The JSON body AWS sends for this error. */
  toBody(): Record<string, unknown> {
    return { __type: this.code, message: this.message, ...this.extra };
  }
}

/** Cloud Map's generic validation error (AWS Cloud Map API Reference, "Common Errors" / InvalidInput). */
export function invalidInput(message: string): AwsError {
  return new AwsError('InvalidInput', message);
}

/** ECS's generic validation error (Amazon ECS API Reference, InvalidParameterException). */
export function invalidParameter(message: string): AwsError {
  return new AwsError('InvalidParameterException', message);
}
