/**
 * A local plugin for `npm start`: serverless-offline runs `schedule` events itself, on a wall-clock cron, and
 * `npm start` runs them too (local/rules.ts startSchedules: at start, then on the rate, reconcile scaled by
 * the time scale, never two runs of one function at once). Two schedulers would overlap the health sweep's
 * minute-long invocations, so when npm start says it runs the schedules (REGISTRAR_LOCAL_SCHEDULES=external),
 * this hides the schedule events from serverless-offline. `osls offline` without that variable keeps
 * serverless-offline's own scheduling; package, deploy and print never reach these hooks.
 */

/** The part of the osls instance this plugin changes. */
export interface OfflineSchedulesServerless {
  service: { functions?: Record<string, { events?: Record<string, unknown>[] }> };
}

export class OfflineSchedules {
  readonly hooks: Record<string, () => void>;

  constructor(serverless: OfflineSchedulesServerless) {
    const hide = () => {
      if (process.env.REGISTRAR_LOCAL_SCHEDULES !== 'external') return;
      for (const fn of Object.values(serverless.service.functions ?? {})) {
        if (Array.isArray(fn.events)) fn.events = fn.events.filter((event) => !event.schedule);
      }
    };
    // `osls offline start` runs offline:start:init; `osls offline` runs offline:start.
    this.hooks = { 'before:offline:start:init': hide, 'before:offline:start': hide };
  }
}
