/**
 * A test hook for crash tests of `coldsign init`: with COLDSIGN_TEST_HOLD_INIT=STAGE in the environment,
 * init stops at that stage, says so on stderr (`coldsign: init held at STAGE`) and waits there until it is
 * killed. It changes nothing init does: it only waits, so a test can kill a real init at a known point
 * instead of after a guessed delay. Unset (always, in use), it costs one environment lookup per stage.
 */

/** The points of an init, in order (docs/operations.md, "An interrupted init"). */
export const INIT_STAGES = [
  'locked', // the init lock is held; nothing else exists yet
  'staged', // the staging directory exists, empty
  'token', // the embedded token is initialised in the staging directory
  'anchored', // the audit key, the first entry and its checkpoint are written
  'configured', // config.json is written; the staging directory is a whole home
  'renamed', // the staging directory is renamed into place; the token conf still names the staging path
] as const;
export type InitStage = (typeof INIT_STAGES)[number];

/** Waits forever at `stage` if COLDSIGN_TEST_HOLD_INIT names it; returns at once otherwise. */
export async function holdInitAt(stage: InitStage, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (env.COLDSIGN_TEST_HOLD_INIT !== stage) return;
  process.stderr.write(`coldsign: init held at ${stage}\n`);
  // A pending timer keeps the event loop (and the SIGINT/SIGTERM handlers) alive until the process is killed.
  await new Promise<never>(() => setInterval(() => {}, 1 << 30));
}
