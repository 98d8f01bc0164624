import {
  ConfigError,
  NamespaceNotFoundError,
  OperationFailedError,
  RouteNotFoundError,
  ServiceNotFoundError,
  UpstreamError,
  UpstreamThrottledError,
  ValidationError,
} from '../../../lib/errors';
import { toHttpResponse } from '../../../lib/lookup/http-errors';

describe('toHttpResponse', () => {
  it.each([
    [new ValidationError('invalid-name', 'bad'), 400, 'invalid-name'],
    [new RouteNotFoundError(), 404, 'route-not-found'],
    [new NamespaceNotFoundError('x'), 404, 'namespace-not-found'],
    [new ServiceNotFoundError('x', 'y'), 404, 'service-not-found'],
    [new UpstreamThrottledError(2), 503, 'upstream-throttled'],
    [new UpstreamError(), 502, 'upstream-error'],
    [new ConfigError('NAMESPACE is required'), 500, 'invalid-config'],
    [new OperationFailedError('op', 'X', 'detail'), 500, 'operation-failed'],
    [new TypeError("Cannot read properties of undefined (reading 'x')"), 500, 'internal-error'],
    ['a thrown string', 500, 'internal-error'],
  ])('maps %p to %i %s', (error, status, code) => {
    const response = toHttpResponse(error);
    expect(response.statusCode).toBe(status);
    expect(JSON.parse(response.body).error).toBe(code);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('tells a throttled caller when to come back', () => {
    expect(toHttpResponse(new UpstreamThrottledError(2)).headers['retry-after']).toBe('2');
  });

  it('keeps the message of an unexpected error and of a config error out of the body', () => {
    const body = toHttpResponse(new TypeError('secret detail at /var/task/index.js:1:2')).body;
    expect(body).not.toMatch(/secret|var\/task/);
    expect(toHttpResponse(new ConfigError('CACHE_MAX_ENTRIES: too small')).body).not.toMatch(/CACHE_MAX_ENTRIES/);
  });
});
