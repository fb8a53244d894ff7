/**
 * COLDSIGN_HOME (default ~/.coldsign) and its config.json. Nothing outside the home is touched.
 * PKCS#11 module and token come from config.json, overridable by COLDSIGN_PKCS11_MODULE and COLDSIGN_TOKEN.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { makeError } from '../core/errors.js';
import { parseJsonStrict } from '../core/json.js';
import { writeFileAtomic } from './atomic-file.js';

export const DEFAULT_TOKEN_LABEL = 'coldsign';

const configSchema = z
  .object({
    version: z.literal(1),
    hsm: z
      .object({
        module: z.string().min(1),
        token: z.string().min(1).max(32),
        /** True for the embedded SoftHSM2 token inside the home. */
        embedded: z.boolean(),
      })
      .strict(),
    createdAt: z.string(),
  })
  .strict();

export type ColdsignConfig = z.infer<typeof configSchema>;

export interface Home {
  dir: string;
  configPath: string;
  databasePath: string;
}

export function resolveHome(env: NodeJS.ProcessEnv = process.env): Home {
  const dir = resolve(env.COLDSIGN_HOME || join(homedir(), '.coldsign'));
  return { dir, configPath: join(dir, 'config.json'), databasePath: join(dir, 'coldsign.db') };
}

export function isInitialized(home: Home): boolean {
  return existsSync(home.configPath);
}

export function readConfig(home: Home, env: NodeJS.ProcessEnv = process.env): ColdsignConfig {
  if (!existsSync(home.configPath)) {
    throw makeError(
      'HOME_NOT_INITIALIZED',
      `${home.dir} is not a coldsign home yet: run \`coldsign init\` first.`,
      {
        home: home.dir,
      },
    );
  }
  const parsed = parseJsonStrict(readFileSync(home.configPath, 'utf8'), home.configPath, 'CONFIG_INVALID');
  const result = configSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw makeError(
      'CONFIG_INVALID',
      `${home.configPath} is invalid at ${issue?.path.join('.') || 'top level'}: ${issue?.message}.`,
    );
  }
  const config = result.data;
  if (env.COLDSIGN_PKCS11_MODULE)
    config.hsm = { ...config.hsm, module: env.COLDSIGN_PKCS11_MODULE, embedded: false };
  if (env.COLDSIGN_TOKEN) config.hsm = { ...config.hsm, token: env.COLDSIGN_TOKEN };
  return config;
}

export function writeConfig(home: Home, config: ColdsignConfig): void {
  mkdirSync(home.dir, { recursive: true, mode: 0o700 });
  writeFileAtomic(home.configPath, `${JSON.stringify(config, null, 2)}\n`);
}
