import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Layering (docs/architecture.md): inside the collector, transport (http/, broker/, cli/) → domain →
 * storage. Each rule below is one `@typescript-eslint/no-restricted-imports` block per folder; flat
 * config replaces a rule's options per file, so the blocks' `files` must not overlap. Every block
 * also applies to the same path under test/lint/fixtures/, where test/lint/layering.test.ts keeps
 * files that break the rule on purpose. Dynamic `import()` is not checked.
 */
const fixtures = 'test/lint/fixtures/';
const at = (...globs) => globs.flatMap((g) => [g, fixtures + g]);
/** An import specifier that climbs to `collector/src/<folder>` (from any depth) or names the file `app.js` there. */
const up = (...folders) => `^(\\.\\./)+(${folders.join('|')})(/|$)`;
const restrict = (...patterns) => ['error', { patterns: patterns.map((p) => ({ caseSensitive: true, ...p })) }];

const transportPackages = {
  regex: '^(hono|@hono/.*|aedes(-.*)?|mqtt|ws|ldapts)(/.*)?$',
  message: 'transport belongs in collector/src/http, broker or ldap; pass what the code needs in as an interface.',
};
const driverPackages = {
  regex: '^(pg|pg-copy-streams|ioredis|@electric-sql/.*)(/.*)?$',
  message: 'database and cache drivers belong in collector/src/storage and cache.',
};

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'data/**', 'bench/data/**', 'test-artifacts/**', `${fixtures}**`] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // No file over 500 lines (blank lines and comments count: it is the size a reader scrolls through).
    files: ['**/*.ts', '**/*.tsx', '**/*.js'],
    rules: { 'max-lines': ['error', { max: 500, skipBlankLines: false, skipComments: false }] },
  },
  {
    // Solid assigns `let el!: HTMLElement; <div ref={el}>` in compiled JSX, which the rule cannot see.
    files: ['web/**/*.tsx'],
    rules: { 'no-unassigned-vars': 'off' },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },

  // ── layering ──────────────────────────────────────────────────────────────────────────────────
  {
    // The domain knows no transport and no driver: it gets repositories, caches and loggers handed in.
    files: at('collector/src/domain/**'),
    rules: {
      '@typescript-eslint/no-restricted-imports': restrict(
        { ...transportPackages, message: `collector/src/domain imports no transport: ${transportPackages.message}` },
        { ...driverPackages, message: `collector/src/domain imports no driver: ${driverPackages.message} Use a storage/*.repo.ts function.` },
        {
          regex: up('http', 'broker', 'cli', 'ldap', 'app\\.js'),
          message: 'collector/src/domain must not import the transport layer (http, broker, cli, ldap, app.ts): they call the domain, not the other way round.',
        },
      ),
    },
  },
  {
    // Storage is SQL and drivers: it may name domain types, never call a service or the transport.
    files: at('collector/src/storage/**'),
    rules: {
      '@typescript-eslint/no-restricted-imports': restrict(
        { ...transportPackages, message: `collector/src/storage imports no transport: ${transportPackages.message}` },
        {
          regex: up('domain'),
          allowTypeImports: true,
          message: 'collector/src/storage may import domain types only (`import type`): services call repositories, not the other way round.',
        },
        {
          regex: up('http', 'broker', 'cli', 'ldap', 'app\\.js'),
          message: 'collector/src/storage must not import the transport layer (http, broker, cli, ldap, app.ts).',
        },
      ),
    },
  },
  {
    // Transport goes through domain services; it may name storage types that a dependency is typed with.
    // Tests and fixtures build real databases for the services under test, so they may open storage.
    files: at('collector/src/http/**', 'collector/src/broker/**'),
    ignores: at('**/*.test.ts', '**/*.fixture.ts'),
    rules: {
      '@typescript-eslint/no-restricted-imports': restrict({
        regex: up('storage'),
        allowTypeImports: true,
        message:
          'collector/src/http and broker reach storage through a domain service (or a narrow interface in HttpDeps), not storage/*.repo.ts; `import type` is allowed.',
      }),
    },
  },
  {
    // shared/ is the common ground: it depends on no workspace that depends on it.
    files: at('shared/**'),
    rules: {
      '@typescript-eslint/no-restricted-imports': restrict({
        regex: '^(@pcapmesh/(agent|collector|web)|(\\.\\./)+(agent|collector|web)/)',
        message: 'shared/ imports nothing of agent, collector or web (they depend on it).',
      }),
    },
  },
  {
    // The agent runs on sensors without the collector or the dashboard.
    files: at('agent/**'),
    rules: {
      '@typescript-eslint/no-restricted-imports': restrict({
        regex: '^(@pcapmesh/(collector|web)|(\\.\\./)+(collector|web)/)',
        message: 'agent/ imports nothing of collector or web: share code through shared/.',
      }),
    },
  },
  {
    // The dashboard reads the collector's types (erased at build); only its tests start a real collector.
    files: at('web/**'),
    ignores: at('web/**/*.test.ts', 'web/**/*.test.tsx'),
    rules: {
      '@typescript-eslint/no-restricted-imports': restrict(
        {
          regex: '^(@pcapmesh/collector|(\\.\\./)+collector/)',
          allowTypeImports: true,
          message: 'web/ imports the collector only with `import type` (its code must not end up in the browser bundle).',
        },
        { regex: '^(@pcapmesh/agent|(\\.\\./)+agent/)', message: 'web/ imports nothing of the agent.' },
      ),
    },
  },
  {
    // The lint fixtures are linted by test/lint/layering.test.ts only, without type information (no project).
    files: [`${fixtures}**`],
    ...tseslint.configs.disableTypeChecked,
  },
);
