import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'web/dist/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'max-lines': ['error', { max: 600, skipBlankLines: true, skipComments: true }],
      'no-restricted-imports': ['error', { paths: ['fastify'], patterns: [] }],
    },
  },
  {
    // Only the HTTP layer and the composition root speak Fastify.
    files: ['src/http/**', 'src/app.ts', 'test/**', 'bench/**', 'scripts/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['src/services/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: ['fastify', 'kysely', 'pg', 'better-sqlite3'] }],
    },
  },
  {
    // The browser UI speaks only HTTP to Berth: nothing from the server's source tree.
    files: ['web/**'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'warn',
      'no-restricted-imports': ['error', { paths: ['fastify'], patterns: ['../../../src/**'] }],
    },
  },
);
