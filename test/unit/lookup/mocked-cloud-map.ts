import { ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { mockClient } from 'aws-sdk-client-mock';

/** The Cloud Map mock of a lookup test file: every ServiceDiscoveryClient it makes answers through it. */
export const sd = mockClient(ServiceDiscoveryClient);

/** The response metadata a Cloud Map exception is built with. */
export const meta = { $metadata: {} };
