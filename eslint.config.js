const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

module.exports = tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.temporal/', '.data/', 'coverage/', '*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node APIs, clocks or randomness of its own.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['fs', 'path', 'http', 'axios', '../activities/*', '../vault/*'] }],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random' }],
    },
  },
);
