/**
 * How long a test waits for an event before it calls the wait a hang. A guard, not a speed check: far beyond
 * what a loaded 2-core machine needs, and below vitest's own 900 s time-out so the waiting step names itself.
 */
export const HANG_GUARD_MS = 600_000;
