/**
 * Waits `ms` milliseconds: the default of every injectable `sleep` in lib/ (tests pass their own so they need not
 * wait). A timer of the global `setTimeout`, so that jest's fake timers drive it too.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise<void>((resolve) => setTimeout(resolve, ms));
}
