import type { EC2Client } from '@aws-sdk/client-ec2';
import { awsClientConfig } from '../aws-clients';
import { isAwsError } from '../errors';

/** An EC2 instance's private addresses, as registration needs them. */
export interface InstanceAddress {
  ipv4?: string;
  ipv6?: string;
}

export type Ec2AddressLookup = (instanceId: string) => Promise<InstanceAddress | undefined>;

/**
 * Reads an EC2 instance's private addresses (DescribeInstances). The EC2 client is large (~400 KB
 * bundled), so it is loaded on first use only, by a bridge or host task: awsvpc registrations never pay
 * for it. In Lambda it comes from the runtime's own AWS SDK (the bundle leaves it out).
 */
export function createEc2AddressLookup(
  options: { endpoint?: string; region?: string; load?: () => Promise<typeof import('@aws-sdk/client-ec2')> } = {},
): Ec2AddressLookup {
  let loaded: Promise<{ sdk: typeof import('@aws-sdk/client-ec2'); client: EC2Client }> | undefined;
  const load = options.load ?? (() => import('@aws-sdk/client-ec2'));
  return async (instanceId) => {
    loaded ??= load().then((sdk) => ({
      sdk,
      client: new sdk.EC2Client(awsClientConfig('EC2', { endpoint: options.endpoint, region: options.region })),
    }));
    const { sdk, client } = await loaded;
    try {
      const out = await client.send(new sdk.DescribeInstancesCommand({ InstanceIds: [instanceId] }));
      const instance = out.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId);
      if (!instance) return undefined;
      const ipv6 =
        instance.Ipv6Address ??
        instance.NetworkInterfaces?.flatMap((n) => n.Ipv6Addresses ?? []).find((a) => a.Ipv6Address)?.Ipv6Address;
      return {
        ...(instance.PrivateIpAddress ? { ipv4: instance.PrivateIpAddress } : {}),
        ...(ipv6 ? { ipv6 } : {}),
      };
    } catch (error) {
      if (isAwsError(error, 'InvalidInstanceID.NotFound')) return undefined;
      throw error;
    }
  };
}
