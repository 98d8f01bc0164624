/**
 * Hostile requests, as raw path and query string (percent-encoded the way they travel), shared by the
 * handler-level unit test and the HTTP integration test. Each must get a 4xx JSON answer and cause no
 * upstream call.
 */
export interface HostileInput {
  name: string;
  path: string;
  query?: string;
  status: 400 | 404;
  error: string;
}

const long = (n: number, c = 'a') => c.repeat(n);

export const HOSTILE_INPUTS: HostileInput[] = [
  // path traversal
  {
    name: 'encoded traversal in a service',
    path: '/services/..%2F..%2Fetc%2Fpasswd',
    status: 400,
    error: 'invalid-name',
  },
  { name: 'dot-dot service', path: '/services/..', status: 400, error: 'invalid-name' },
  { name: 'dot service', path: '/services/.', status: 400, error: 'invalid-name' },
  {
    name: 'traversal in a namespace',
    path: '/namespaces/..%2F..%2Fadmin/services/api',
    status: 400,
    error: 'invalid-name',
  },
  { name: 'backslash traversal', path: '/services/..%5C..%5Cwindows', status: 400, error: 'invalid-name' },
  { name: 'double-encoded traversal', path: '/services/%252e%252e%252f', status: 400, error: 'invalid-name' },
  { name: 'extra path segments', path: '/services/api/../../admin', status: 404, error: 'route-not-found' },
  { name: 'unknown route', path: '/admin', status: 404, error: 'route-not-found' },
  // overlong names and values
  { name: 'overlong service (128)', path: `/services/${long(128)}`, status: 400, error: 'invalid-name' },
  { name: 'overlong label (64)', path: `/services/${long(64)}`, status: 400, error: 'invalid-name' },
  {
    name: 'overlong namespace (1025)',
    path: `/namespaces/${long(1025)}/services/api`,
    status: 400,
    error: 'invalid-name',
  },
  {
    name: 'overlong attribute value (1025)',
    path: '/services/api',
    query: `attr.v=${long(1025)}`,
    status: 400,
    error: 'invalid-parameter',
  },
  {
    name: 'overlong attribute key (256)',
    path: '/services/api',
    query: `attr.${long(256)}=1`,
    status: 400,
    error: 'invalid-parameter',
  },
  { name: 'max above 1000', path: '/services/api', query: 'max=1001', status: 400, error: 'invalid-parameter' },
  { name: 'max in exponent form', path: '/services/api', query: 'max=1e3', status: 400, error: 'invalid-parameter' },
  // NUL, control characters and unicode
  { name: 'NUL in a service', path: '/services/api%00', status: 400, error: 'invalid-name' },
  { name: 'newline in a service', path: '/services/api%0Ainjected', status: 400, error: 'invalid-name' },
  { name: 'CRLF header injection', path: '/services/api%0D%0ASet-Cookie:x=1', status: 400, error: 'invalid-name' },
  {
    name: 'NUL in an attribute value',
    path: '/services/api',
    query: 'attr.v=1%00',
    status: 400,
    error: 'invalid-parameter',
  },
  { name: 'unicode service', path: '/services/%C3%A4pi', status: 400, error: 'invalid-name' },
  {
    name: 'unicode lookalike namespace',
    path: '/namespaces/kud%D0%BEs.local/services/api',
    status: 400,
    error: 'invalid-name',
  },
  { name: 'right-to-left override', path: '/services/api%E2%80%AE', status: 400, error: 'invalid-name' },
  {
    name: 'unicode attribute value',
    path: '/services/api',
    query: 'attr.v=%E2%9C%93',
    status: 400,
    error: 'invalid-parameter',
  },
  { name: 'malformed percent-encoding', path: '/services/%E0%A4%A', status: 400, error: 'invalid-name' },
  // injection strings
  { name: 'SQL injection in a service', path: "/services/api'%20OR%20'1'%3D'1", status: 400, error: 'invalid-name' },
  {
    name: 'script in a service',
    path: '/services/%3Cscript%3Ealert(1)%3C%2Fscript%3E',
    status: 400,
    error: 'invalid-name',
  },
  {
    name: 'shell injection in a namespace',
    path: '/namespaces/%24(reboot)/services/api',
    status: 400,
    error: 'invalid-name',
  },
  {
    name: 'template injection in resolve',
    path: '/resolve/%24%7Bjndi%3Aldap%3A%2F%2Fx%7D.kudos.local',
    status: 400,
    error: 'invalid-name',
  },
  {
    name: 'JSON breaking quote in a namespace',
    path: '/namespaces/a%22%7D/services/api',
    status: 400,
    error: 'invalid-name',
  },
  { name: 'resolve without a namespace', path: '/resolve/api', status: 400, error: 'invalid-name' },
  { name: 'resolve with an empty service', path: '/resolve/.kudos.local', status: 400, error: 'invalid-name' },
  {
    name: 'injection in a parameter name',
    path: '/services/api',
    query: "health'%20OR%201%3D1=x",
    status: 400,
    error: 'unknown-parameter',
  },
  { name: 'unknown parameter', path: '/services/api', query: 'debug=true', status: 400, error: 'unknown-parameter' },
  {
    name: 'parameter on the services list',
    path: '/services',
    query: 'health=all',
    status: 400,
    error: 'unknown-parameter',
  },
  { name: 'bad health value', path: '/services/api', query: 'health=sick', status: 400, error: 'invalid-parameter' },
  // repeated parameters
  {
    name: 'repeated health',
    path: '/services/api',
    query: 'health=all&health=healthy',
    status: 400,
    error: 'repeated-parameter',
  },
  {
    name: 'repeated attribute',
    path: '/services/api',
    query: 'attr.v=1&attr.v=2',
    status: 400,
    error: 'repeated-parameter',
  },
  { name: 'repeated max', path: '/services/api', query: 'max=1&max=1000', status: 400, error: 'repeated-parameter' },
];

/**
 * Attribute keys named like Object.prototype's members. Cloud Map takes any printable ASCII key, so an
 * instance may carry such an attribute: each filter is passed on to Cloud Map as given (never dropped, as
 * an assignment to `__proto__` would drop it), and the answer is a 200.
 */
export interface PrototypeKeyInput {
  name: string;
  path: string;
  query: string;
  /** The QueryParameters and OptionalParameters Cloud Map must receive, as [key, value] pairs. */
  queryParameters: [string, string][];
  optionalParameters: [string, string][];
}

export const PROTOTYPE_KEY_INPUTS: PrototypeKeyInput[] = [
  {
    name: 'attr.__proto__',
    path: '/services/api',
    query: 'attr.__proto__=x',
    queryParameters: [['__proto__', 'x']],
    optionalParameters: [],
  },
  {
    name: 'attr.constructor',
    path: '/services/api',
    query: 'attr.constructor=x',
    queryParameters: [['constructor', 'x']],
    optionalParameters: [],
  },
  {
    name: 'attr.prototype',
    path: '/services/api',
    query: 'attr.prototype=x',
    queryParameters: [['prototype', 'x']],
    optionalParameters: [],
  },
  {
    name: 'prefer.__proto__ beside attr.__proto__',
    path: '/resolve/api.kudos.local',
    query: 'attr.__proto__=a&prefer.__proto__=b&prefer.hasOwnProperty=c',
    queryParameters: [['__proto__', 'a']],
    optionalParameters: [
      ['__proto__', 'b'],
      ['hasOwnProperty', 'c'],
    ],
  },
];
