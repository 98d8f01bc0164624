// osls loads it through serverless/rest-api-stage.js (tsx); the packaged tests of private mode cover that path.
import { RestApiStage } from '../../serverless/plugins/rest-api-stage';

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
}

const THROTTLING = {
  MethodSettings: [{ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 }],
};

/** What osls has compiled for a REST API when the plugin's hook runs (lib/.../api-gateway/lib/deployment.js). */
function compiled(restApiStage: Record<string, unknown>) {
  const resources: Record<string, Resource> = {
    ApiGatewayRestApi: { Type: 'AWS::ApiGateway::RestApi', Properties: { Name: 'prod-ecs-cloudmap-registrar' } },
    ApiGatewayDeployment1700000000000: {
      Type: 'AWS::ApiGateway::Deployment',
      Properties: { RestApiId: { Ref: 'ApiGatewayRestApi' }, StageName: 'prod', Description: undefined },
    },
  };
  return {
    resources,
    serverless: {
      service: { custom: { restApiStage }, provider: { compiledCloudFormationTemplate: { Resources: resources } } },
    },
  };
}

describe('serverless/plugins/rest-api-stage.ts (the private REST API stage carries the throttling)', () => {
  it('moves the stage off the deployment into a stage resource with the settings, pointing at that deployment', () => {
    const { serverless, resources } = compiled(THROTTLING);

    new RestApiStage(serverless).hooks['after:package:compileEvents']?.();

    expect(resources.ApiGatewayDeployment1700000000000?.Properties.StageName).toBeUndefined();
    expect(resources.ApiGatewayStage).toEqual({
      Type: 'AWS::ApiGateway::Stage',
      Properties: {
        RestApiId: { Ref: 'ApiGatewayRestApi' },
        DeploymentId: { Ref: 'ApiGatewayDeployment1700000000000' },
        StageName: 'prod',
        ...THROTTLING,
      },
    });
  });

  it('changes nothing when there are no REST API stage settings (iam mode)', () => {
    const { serverless, resources } = compiled({});
    const before = JSON.stringify(resources);

    new RestApiStage(serverless).hooks['after:package:compileEvents']?.();

    expect(JSON.stringify(resources)).toBe(before);
  });
});
