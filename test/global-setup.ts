import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFunctionRules } from '../local/rules';

/**
 * Resolves serverless.yml's EventBridge rules once per test run (osls print takes seconds), so that
 * every integration test applies the pattern that deploys.
 */
export default async function globalSetup(): Promise<void> {
  const rules = await loadFunctionRules('local', join(__dirname, '..'));
  const file = join(tmpdir(), `ecs-cloudmap-registrar-rules-${process.pid}.json`);
  writeFileSync(file, JSON.stringify(rules));
  process.env.TEST_RULES_FILE = file;
}
