/**
 * `npm run app:dev` serves the app to an ordinary browser with no Electron hardening: it must not open an operator's
 * real home by accident. It opens the throwaway home scripts/app-dev.sh made for this run, or another home only
 * when asked explicitly (COLDSIGN_DEV_REAL_HOME=1).
 */
import { resolve } from 'node:path';

/** Set by scripts/app-dev.sh to the throwaway home it created for this run. */
export const THROWAWAY_HOME_ENV = 'COLDSIGN_DEV_THROWAWAY_HOME';
/** Set to 1 to let the dev app open a home that is not this run's throwaway one. */
export const REAL_HOME_ENV = 'COLDSIGN_DEV_REAL_HOME';

/** Null when the dev app may open `homeDir`, else the sentence that explains the refusal. */
export function devHomeRefusal(homeDir: string, env: NodeJS.ProcessEnv): string | null {
  const throwaway = env[THROWAWAY_HOME_ENV];
  if (throwaway && resolve(throwaway) === resolve(homeDir)) return null;
  if (env[REAL_HOME_ENV] === '1') return null;
  return (
    `The development app refuses to open ${homeDir}: it is not a throwaway home made for this run. ` +
    `Unset COLDSIGN_HOME to get one, or set ${REAL_HOME_ENV}=1 to open this home in an unhardened browser anyway.`
  );
}
