import { MANAGED_TAG_KEY } from '../../lib/cloud-map/service-creator';
import { httpApiStageExtension } from './api-modes';
import { PROJECT } from './cfn';
import { concurrencyExtensions } from './functions';
import { createServiceStatements } from './iam/create-service';
import { lookupStatements } from './iam/lookup';
import { registerStatements } from './iam/register';
import { role } from './iam/role';
import { scheduledStatements } from './iam/scheduled';
import type { DeploySettings } from './params';
import { taskEventResources } from './task-events';

/** The namespace this stack creates (createNamespace=true), tagged as ours. */
function namespaceResource(s: DeploySettings) {
  const common = {
    Name: s.namespace,
    Description: `Cloud Map namespace of ${PROJECT} (${s.stage})`,
    Tags: [{ Key: MANAGED_TAG_KEY, Value: s.ownerId }],
  };
  return s.namespaceType === 'dns'
    ? { Type: 'AWS::ServiceDiscovery::PrivateDnsNamespace', Properties: { ...common, Vpc: s.namespaceVpcId } }
    : { Type: 'AWS::ServiceDiscovery::HttpNamespace', Properties: common };
}

/**
 * Resources, outputs and extensions that depend on the parameters (static resources live in resources/*.yml):
 * a role per function, the task-event rules and queues, the namespace when the stack creates it, reserved
 * concurrency, the HTTP API's throttling.
 */
export function resources(s: DeploySettings) {
  const Resources: Record<string, unknown> = {
    RegisterRole: role(`${PROJECT} ${s.stage}: register function`, registerStatements(s, 'register')),
    DeregisterRole: role(`${PROJECT} ${s.stage}: deregister function`, registerStatements(s, 'deregister')),
    LookupRole: role(`${PROJECT} ${s.stage}: lookup function`, lookupStatements(s)),
    ReconcileRole: role(`${PROJECT} ${s.stage}: reconcile function`, scheduledStatements(s, 'reconcile')),
    HealthSweepRole: role(`${PROJECT} ${s.stage}: health sweep function`, scheduledStatements(s, 'healthSweep')),
    CreateServiceRole: role(`${PROJECT} ${s.stage}: service creator function`, createServiceStatements(s)),
  };
  Object.assign(Resources, taskEventResources(s));
  const Outputs: Record<string, unknown> = {};
  if (s.createNamespace) {
    Resources.CloudMapNamespace = namespaceResource(s);
    Outputs.NamespaceId = {
      Description: 'Id of the Cloud Map namespace this stack created',
      Value: { Ref: 'CloudMapNamespace' },
    };
  }
  const extensions = { ...concurrencyExtensions(s), ...httpApiStageExtension(s) };
  return { Resources, Outputs, extensions };
}
