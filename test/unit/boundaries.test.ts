/** The layering of ARCHITECTURE.md is enforced by ESLint: a forbidden import in a pure layer is an error. */
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const eslint = new ESLint({ cwd: root });

async function ruleIds(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, file) });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('layer boundaries', () => {
  it('refuses Node built-ins and Node layers in the pure layers', async () => {
    expect(
      await ruleIds(
        'core/example.ts',
        "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n",
      ),
    ).toContain('no-restricted-imports');
    expect(
      await ruleIds(
        'chains/btc/example.ts',
        "import { Hsm } from '../../hsm/index.js';\nexport const x = Hsm;\n",
      ),
    ).toContain('no-restricted-imports');
    expect(
      await ruleIds(
        'policy/example.ts',
        "import { openDatabase } from '../store/database.js';\nexport const x = openDatabase;\n",
      ),
    ).toContain('no-restricted-imports');
    expect(
      await ruleIds(
        'qr/example.ts',
        "import { Command } from '../cli/main.js';\nexport const x = Command;\n",
      ),
    ).toContain('no-restricted-imports');
  });

  it('keeps the HSM and store layers off the CLI, and the renderer off Node', async () => {
    expect(
      await ruleIds('store/example.ts', "import { main } from '../cli/main.js';\nexport const x = main;\n"),
    ).toContain('no-restricted-imports');
    expect(
      await ruleIds(
        'app/renderer/example.ts',
        "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n",
      ),
    ).toContain('no-restricted-imports');
  });

  it('allows what the layering allows', async () => {
    expect(
      await ruleIds(
        'chains/btc/example.ts',
        "import { makeError } from '../../core/errors.js';\nexport const x = makeError;\n",
      ),
    ).toEqual([]);
    expect(
      await ruleIds(
        'core/pipeline/example.ts',
        "import { parsePsbt } from '../../chains/btc/index.js';\nexport const x = parsePsbt;\n",
      ),
    ).toEqual([]);
  });
});
