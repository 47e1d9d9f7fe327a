/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The cluster suite has a configuration of its own (jest.cluster.config.js); npm test runs both.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/cluster/'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  setupFilesAfterEnv: ['<rootDir>/test/helpers/setup.ts'],
  // A test's default limit, with room for a slow 2-core machine: its Temporal servers share the cores with the tests.
  testTimeout: 240_000,
  // Temporal servers and workers are heavy: two at once fit the 2-core CI machine.
  maxWorkers: 2,
};
