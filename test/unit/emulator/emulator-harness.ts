import { ECSClient } from '@aws-sdk/client-ecs';
import { ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { createEmulator, type Emulator, type EmulatorOptions } from '../../../local/emulator';

/** An emulator on a free port and SDK clients pointed at it, as the functions build theirs. */
export interface Harness {
  emulator: Emulator;
  cloudMap: ServiceDiscoveryClient;
  ecs: ECSClient;
}

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** Starts an emulator with a tiny time scale (simulated minutes take milliseconds). */
export async function startHarness(options: EmulatorOptions = {}): Promise<Harness> {
  const emulator = await createEmulator({ port: 0, timeScale: 0.001, ...options });
  const common = { endpoint: emulator.url, region: 'us-east-1', credentials, maxAttempts: 1 };
  return {
    emulator,
    cloudMap: new ServiceDiscoveryClient({ ...common, disableHostPrefix: true }),
    ecs: new ECSClient(common),
  };
}

export async function stopHarness(harness: Harness | undefined): Promise<void> {
  if (!harness) return;
  harness.cloudMap.destroy();
  harness.ecs.destroy();
  await harness.emulator.close();
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to fail');
}
