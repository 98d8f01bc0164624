import type { DeploySettings } from './params';

/**
 * The lookup API in its two modes: `iam`, an HTTP API with SigV4 on every route, throttled on its $default stage;
 * `private`, a private REST API reachable only through the given VPC endpoints, IAM or open, throttled on a stage
 * of its own (serverless/plugins/rest-api-stage.ts). The handler reads both payloads (v2 and v1).
 */

/** The lookup routes: what lib/lookup/validation.ts parseLookupRoute matches. */
const LOOKUP_ROUTES = [
  '/services',
  '/services/{service}',
  '/namespaces/{namespace}/services/{service}',
  '/resolve/{name}',
  '/prometheus/targets',
  '/namespaces',
  '/namespaces/{namespace}/services',
  '/console',
  '/console/{file}',
];

/** The lookup function's events: HTTP API routes with IAM, or private REST API routes (IAM or open). */
export function lookupEvents(s: DeploySettings) {
  if (s.lookupMode === 'iam') {
    return LOOKUP_ROUTES.map((path) => ({ httpApi: { method: 'GET', path, authorizer: { type: 'aws_iam' } } }));
  }
  return LOOKUP_ROUTES.map((path) => ({
    http: { method: 'get', path, ...(s.lookupAuth === 'iam' ? { authorizer: 'aws_iam' } : {}) },
  }));
}

/** provider.endpointType: the REST API's (only in private mode, where there is one). */
export const endpointType = (s: DeploySettings): string => (s.lookupMode === 'private' ? 'PRIVATE' : 'REGIONAL');

/** provider.vpcEndpointIds: the endpoints the private REST API is reachable through; none in iam mode. */
export const vpcEndpointIds = (s: DeploySettings): string[] => (s.lookupMode === 'private' ? s.vpcEndpointIds : []);

/**
 * The private REST API's resource policy: only requests through the given VPC endpoints; with IAM auth, only
 * principals of this account (another account's principal is refused even when its own policy allows it).
 */
export function apiGateway(s: DeploySettings) {
  if (s.lookupMode !== 'private') return {};
  const allow: Record<string, unknown> = {
    Effect: 'Allow',
    Principal: '*',
    Action: 'execute-api:Invoke',
    Resource: ['execute-api:/*'],
  };
  if (s.lookupAuth === 'iam') {
    // osls accepts only literal principals here, so the account is checked with a condition.
    allow.Condition = { StringEquals: { 'aws:PrincipalAccount': { Ref: 'AWS::AccountId' } } };
  }
  return {
    resourcePolicy: [
      allow,
      {
        Effect: 'Deny',
        Principal: '*',
        Action: 'execute-api:Invoke',
        Resource: ['execute-api:/*'],
        Condition: { StringNotEquals: { 'aws:SourceVpce': s.vpcEndpointIds } },
      },
    ],
  };
}

/**
 * The private REST API's stage settings (serverless/plugins/rest-api-stage.ts puts them on the stage): every
 * method throttled as the HTTP API's $default route is in iam mode. None in iam mode.
 */
export function restApiStage(s: DeploySettings) {
  if (s.lookupMode !== 'private') return {};
  return {
    MethodSettings: [
      {
        HttpMethod: '*',
        ResourcePath: '/*',
        ThrottlingRateLimit: s.throttleRate,
        ThrottlingBurstLimit: s.throttleBurst,
      },
    ],
  };
}

/** In iam mode, the HTTP API's $default stage (an extension: HTTP APIs have no throttling setting in osls). */
export function httpApiStageExtension(s: DeploySettings) {
  if (s.lookupMode !== 'iam') return {};
  return {
    HttpApiStage: {
      Properties: {
        DefaultRouteSettings: {
          DetailedMetricsEnabled: false,
          ThrottlingRateLimit: s.throttleRate,
          ThrottlingBurstLimit: s.throttleBurst,
        },
      },
    },
  };
}
