const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const globals = {
  require: 'readonly',
  module: 'writable',
  __dirname: 'readonly',
  process: 'readonly',
  console: 'readonly',
};

module.exports = tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      '.temporal/',
      '.data/',
      'coverage/',
      'eslint.config.js',
      'jest.config.js',
      'jest.cluster.config.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  { files: ['bin/*.js'], languageOptions: { globals }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no I/O, no clients, no randomness of its own.
    // Types from elsewhere are fine (they vanish at compile time); values are not.
    files: ['src/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'path', 'http', 'axios', '../activities/*', '../vault/*', '../sources/*'],
              allowTypeImports: true,
            },
          ],
        },
      ],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random' }],
    },
  },
);
