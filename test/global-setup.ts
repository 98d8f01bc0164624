import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printConfig } from '../local/rules';

/**
 * Resolves serverless.yml once per test run (osls print takes seconds), so that every integration test applies
 * the delivery that deploys (TEST_PRINTED_CONFIG_FILE: the whole printed config, as local/delivery.ts reads it).
 */
export default async function globalSetup(): Promise<void> {
  const config = await printConfig('local', join(__dirname, '..'));
  const configFile = join(tmpdir(), `ecs-cloudmap-registrar-config-${process.pid}.json`);
  writeFileSync(configFile, JSON.stringify(config));
  process.env.TEST_PRINTED_CONFIG_FILE = configFile;
}
