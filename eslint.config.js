// ESLint: typescript-eslint recommended rules plus the layering of ARCHITECTURE.md as import boundaries.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = ['node:*', 'fs', 'path', 'os', 'child_process', 'crypto', 'net', 'http', 'https'];
const pure = (layer, forbiddenLayers, ignores = []) => ({
  files: [`${layer}/**/*.ts`],
  ignores: ['**/*.test.ts', ...ignores],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          { group: NODE_BUILTINS, message: `${layer}/ is pure: no Node built-ins (ARCHITECTURE.md).` },
          { group: ['electron'], message: `${layer}/ is pure: no Electron.` },
          ...forbiddenLayers.map((other) => ({
            group: [`../${other}/*`, `../../${other}/*`, `../${other}`, `../../${other}`],
            message: `${layer}/ must not depend on ${other}/ (ARCHITECTURE.md layering).`,
          })),
        ],
      },
    ],
  },
});

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'test/vectors/**',
      'app/renderer/vendor/**',
      'app/dist/**',
      'app/renderer/dist/**',
      'app/test-host/dist/**',
      '.tmp/**',
      'coverage/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.mjs', 'bin/*', 'scripts/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  // The launcher is CommonJS (bin/package.json): it sets libuv's pool size before anything starts the pool, and
  // loads the bundle with its code cache (bin/load-bundle.cjs; the build's trainer in scripts/ is CommonJS too).
  {
    files: ['bin/*.cjs', 'bin/coldsign', 'scripts/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        Buffer: 'readonly',
        process: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  // core/pipeline orchestrates the pure chain codecs and QR transport; the rest of core depends on nothing.
  pure('core', ['chains', 'policy', 'qr', 'hsm', 'store', 'cli', 'app'], ['core/pipeline/**']),
  pure('core/pipeline', ['policy', 'hsm', 'store', 'cli', 'app']),
  pure('chains', ['policy', 'qr', 'hsm', 'store', 'cli', 'app']),
  pure('policy', ['chains', 'qr', 'hsm', 'store', 'cli', 'app']),
  pure('qr', ['chains', 'policy', 'hsm', 'store', 'cli', 'app']),
  {
    files: ['hsm/**/*.ts', 'store/**/*.ts', 'appliance/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../cli/*', '../app/*', '../cli', '../app', 'electron'],
              message: 'hsm/, store/ and appliance/ must not depend on cli/ or app/.',
            },
          ],
        },
      ],
    },
  },
  // One appliance API is the only way in for the CLI: it parses arguments, calls appliance/, formats output.
  {
    files: ['cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../store/*', '../../store/*', '../hsm/*', '../../hsm/*'],
              message:
                'cli/ reaches the store and the HSM only through the appliance API (appliance/api.ts).',
            },
            {
              group: ['../appliance/pipeline*', '../../appliance/pipeline*'],
              message: 'cli/ calls the appliance session, not the pipeline behind it (appliance/api.ts).',
            },
            {
              group: ['@keystonehq/*', '@ngraveio/*', 'better-sqlite3', 'pkcs11js', 'graphene-pk11'],
              message: 'cli/ uses the UR registries, SQLite and PKCS#11 only through appliance/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['app/renderer/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: NODE_BUILTINS,
              message: 'The renderer has no Node: talk to main through app/shared/ipc.',
            },
            {
              group: ['electron', '../../hsm/*', '../../store/*', '../../cli/*'],
              message: 'The renderer reaches the core only through the IPC contract.',
            },
          ],
        },
      ],
    },
  },
);
