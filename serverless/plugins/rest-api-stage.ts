/**
 * Gives the private REST API (lookupMode=private) a stage resource of its own, carrying `custom.restApiStage`
 * (serverless/config/api-modes.ts restApiStage: the throttling method settings).
 *
 * osls creates the stage implicitly, through the deployment's StageName, and has no setting for its throttling.
 * The deployment's StageDescription cannot carry it either: CloudFormation refuses a StageDescription once the
 * stage exists, that is on every deploy after the first (awsdocs/aws-cloudformation-user-guide#387). So the
 * deployment loses its StageName and an AWS::ApiGateway::Stage of the same name points at it; the deployment's
 * logical id changes on every package, and the stage follows it.
 * In iam mode (an HTTP API, throttled on its $default stage) `custom.restApiStage` is empty and nothing changes.
 */

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
}

/** The part of the osls instance this plugin reads and changes. */
export interface RestApiStageServerless {
  service: {
    custom?: { restApiStage?: Record<string, unknown> };
    provider: { compiledCloudFormationTemplate: { Resources: Record<string, Resource> } };
  };
}

export class RestApiStage {
  readonly hooks: Record<string, () => void>;

  constructor(private readonly serverless: RestApiStageServerless) {
    this.hooks = { 'after:package:compileEvents': () => this.addStage() };
  }

  addStage(): void {
    const settings = this.serverless.service.custom?.restApiStage ?? {};
    if (!Object.keys(settings).length) return;
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const deployments = Object.entries(template.Resources).filter(
      ([, resource]) => resource.Type === 'AWS::ApiGateway::Deployment',
    );
    const [only] = deployments;
    if (deployments.length !== 1 || !only) {
      throw new Error(`rest-api-stage: expected one AWS::ApiGateway::Deployment, found ${deployments.length}`);
    }
    const [deploymentId, deployment] = only;
    const { StageName, ...properties } = deployment.Properties;
    deployment.Properties = properties;
    template.Resources.ApiGatewayStage = {
      Type: 'AWS::ApiGateway::Stage',
      Properties: {
        RestApiId: properties.RestApiId,
        DeploymentId: { Ref: deploymentId },
        StageName,
        ...settings,
      },
    };
  }
}
