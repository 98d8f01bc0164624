import { ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { createHandler } from '../../../functions/lookup';
import type { LookupConfig } from '../../../lib/config';
import { createCloudMapLookupApp, type LookupDependencies } from '../../../lib/lookup/lookup-app';
import { lambdaContext, testConfig } from './helpers';

/** The lookup handler over a (mocked) Cloud Map client, with this config and these app dependencies, bound to the test context. */
export function lookupHandler(config: LookupConfig = testConfig(), deps: Partial<LookupDependencies> = {}) {
  const handler = createHandler(createCloudMapLookupApp(config, new ServiceDiscoveryClient({ maxAttempts: 1 }), deps));
  return (event: Parameters<typeof handler>[0]) => handler(event, lambdaContext);
}
