/**
 * The cluster suite (npm run test:cluster): what docker-compose.yml runs, without Docker. It runs the compiled
 * build (npm run build) against the Temporal server scripts/setup-temporal-server.sh builds.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/cluster'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  setupFilesAfterEnv: ['<rootDir>/test/helpers/setup.ts'],
  testTimeout: 600_000,
  maxWorkers: 1,
};
