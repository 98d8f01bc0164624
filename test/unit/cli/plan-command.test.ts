import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { printedPlan } from '../../../cli/plan-command';
import type { RegisterPlan } from '../../../lib/plan';
import { runCli } from '../../helpers/cli-io';

const fixture = (name: string) => join(__dirname, '..', '..', 'fixtures', 'ecs-events', name);
const RUNNING = fixture('07-fargate-running-multicontainer-service-connect-sdi.json');

function run(args: string[], env: Record<string, string> = { NAMESPACE: 'kudos.local' }, stdinText?: string) {
  return runCli(args, env, stdinText);
}

describe('registrar plan', () => {
  it('prints a registration planned from the event alone, saying so in notes', async () => {
    const { code, out } = await run(['plan', RUNNING]);
    expect(code).toBe(0);
    const plan = JSON.parse(out);
    expect(plan).toMatchObject({
      action: 'register',
      namespace: 'kudos.local',
      service: 'cdp-demo-test-15',
      instanceId: 'f8bec92bed774ee4b27711702a862de5',
      attributes: { AWS_INSTANCE_IPV4: '10.249.47.254', AWS_INSTANCE_PORT: '80' },
    });
    expect(plan.notes[0]).toMatch(/event alone/);
    expect(out.trim().split('\n')).toHaveLength(1);
  });

  it('reads the event from stdin with -', async () => {
    const { readFileSync } = await import('node:fs');
    const { code, out } = await run(
      ['plan', '-'],
      { NAMESPACE: 'kudos.local' },
      readFileSync(fixture('05-fargate-stopped-elb-healthcheck-service.json'), 'utf8'),
    );
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ action: 'deregister', service: 'sin-web_service-dev' });
  });

  it('lets --namespace override the configured namespace and uses DEFAULT_PORT', async () => {
    const { out } = await run(['plan', RUNNING, '--namespace', 'other.local'], {
      NAMESPACE: 'kudos.local',
      DEFAULT_PORT: '8080',
    });
    expect(JSON.parse(out)).toMatchObject({ namespace: 'other.local', attributes: { AWS_INSTANCE_PORT: '8080' } });
  });

  it('answers ignore with a reason, exit 0, for an ECS event the registrar does not act on', async () => {
    const { code, out } = await run(['plan', fixture('32-service-action-steady-state-docs.json')]);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ action: 'ignore', reason: 'not-a-task-state-change' });
  });

  it('exits 2 with a message on stderr for unreadable JSON', async () => {
    const { code, out, err } = await run(['plan', '-'], { NAMESPACE: 'kudos.local' }, '{"not json');
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toMatch(/stdin is not valid JSON/);
  });

  it('exits 2 for a JSON file that is not an EventBridge event', async () => {
    const { code, err } = await run(['plan', '-'], { NAMESPACE: 'kudos.local' }, '{"hello":"world"}');
    expect(code).toBe(2);
    expect(err).toMatch(/not an EventBridge event/);
  });

  it('exits 2 for a missing file, a missing namespace and an unknown option', async () => {
    expect((await run(['plan', '/nonexistent.json'])).code).toBe(2);
    expect((await run(['plan', RUNNING], {})).err).toMatch(/no namespace/);
    expect((await run(['plan', RUNNING, '--bogus'])).err).toMatch(/unknown option --bogus/);
    expect((await run(['nope'])).code).toBe(2);
  });

  it('prints the primary registration at the top level, and every registration when there are several', () => {
    const attributes = { AWS_INSTANCE_IPV4: '10.0.0.1', AWS_INSTANCE_PORT: '80' };
    const admin = { ...attributes, AWS_INSTANCE_PORT: '9090', ECS_PORT_NAME: 'admin' };
    const plan: RegisterPlan = {
      action: 'register',
      namespace: 'kudos.local',
      registrations: [
        { service: 'api', instanceId: 't1', attributes },
        { service: 'api-admin', instanceId: 't1', attributes: admin },
      ],
      dnsRecords: 'A',
      version: 5,
      notes: ['a note'],
    };
    expect(JSON.stringify(printedPlan(plan))).toBe(
      JSON.stringify({
        action: 'register',
        namespace: 'kudos.local',
        service: 'api',
        instanceId: 't1',
        version: 5,
        attributes,
        registrations: plan.registrations,
        dnsRecords: 'A',
        notes: ['a note'],
      }),
    );
    const single: RegisterPlan = { ...plan, registrations: [{ service: 'api', instanceId: 't1', attributes }] };
    expect(Object.keys(printedPlan(single))).toEqual([
      'action',
      'namespace',
      'service',
      'instanceId',
      'version',
      'attributes',
      'dnsRecords',
      'notes',
    ]);
  });

  it('works as the installed npx registrar command', async () => {
    const bin = join(__dirname, '..', '..', '..', 'bin', 'registrar.cjs');
    const { stdout } = await promisify(execFile)(process.execPath, [
      bin,
      'plan',
      RUNNING,
      '--namespace',
      'kudos.local',
    ]);
    expect(JSON.parse(stdout)).toMatchObject({ action: 'register', service: 'cdp-demo-test-15' });
  });
});
