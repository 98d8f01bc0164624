// osls loads it through serverless/offline-schedules.js (tsx).
import { OfflineSchedules } from '../../serverless/plugins/offline-schedules';

interface Fn {
  events?: Record<string, unknown>[];
}

const service = (): { service: { functions: Record<string, Fn> } } => ({
  service: {
    functions: {
      register: { events: [{ eventBridge: { pattern: {} } }] },
      reconcile: { events: [{ schedule: { rate: ['rate(5 minutes)'] } }] },
      healthSweep: { events: [{ schedule: 'rate(1 minute)' }, { eventBridge: { pattern: {} } }] },
      lookup: {},
    },
  },
});

describe('serverless/plugins/offline-schedules.ts (npm start runs the schedules, not serverless-offline)', () => {
  const saved = process.env.REGISTRAR_LOCAL_SCHEDULES;
  afterEach(() => {
    if (saved === undefined) delete process.env.REGISTRAR_LOCAL_SCHEDULES;
    else process.env.REGISTRAR_LOCAL_SCHEDULES = saved;
  });

  it.each(['before:offline:start:init', 'before:offline:start'])(
    'hides every schedule event from serverless-offline at %s when npm start runs them',
    (hook) => {
      process.env.REGISTRAR_LOCAL_SCHEDULES = 'external';
      const serverless = service();

      new OfflineSchedules(serverless).hooks[hook]?.();

      expect(serverless.service.functions).toEqual({
        register: { events: [{ eventBridge: { pattern: {} } }] },
        reconcile: { events: [] },
        healthSweep: { events: [{ eventBridge: { pattern: {} } }] },
        lookup: {},
      });
    },
  );

  it('leaves the schedules to serverless-offline when it runs on its own', () => {
    delete process.env.REGISTRAR_LOCAL_SCHEDULES;
    const serverless = service();

    new OfflineSchedules(serverless).hooks['before:offline:start:init']?.();

    expect(serverless).toEqual(service());
  });

  it('hooks nothing that package, deploy or print run', () => {
    expect(Object.keys(new OfflineSchedules(service()).hooks).sort()).toEqual([
      'before:offline:start',
      'before:offline:start:init',
    ]);
  });
});
