/** Priority 1 runs first; BullMQ uses the same order (lower number, higher priority). */
export const PRIORITY_HIGHEST = 1;
/** Priority 10 runs last. */
export const PRIORITY_LOWEST = 10;
/** The seed's default priority. */
export const PRIORITY_DEFAULT = 5;

/**
 * Every task carries a priority: BullMQ runs jobs with priority 0 ("none")
 * before all prioritized ones, so 0 must never reach it.
 */
export function isValidPriority(value: unknown): value is number {
  return (
    Number.isInteger(value) && (value as number) >= PRIORITY_HIGHEST && (value as number) <= PRIORITY_LOWEST
  );
}
