import { execFileSync } from 'node:child_process';
import { startDevStack } from './helpers/dev-stack';
import { testDatabaseUrl } from './helpers/postgres';

/** This test process's own children (the servers a test setup starts). */
const children = () => {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid)])
      .toString()
      .trim()
      .split('\n')
      .sort();
  } catch {
    return [];
  }
};

it('stops the dev server it had started when a test setup fails', async () => {
  await testDatabaseUrl(); // this file's PostgreSQL, which lives until the file's end by design
  const before = children();
  const failing = startDevStack({
    records: 1,
    lockedFraction: 0,
    taskQueue: 'failing-setup',
    settings: { CAPA_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
  });
  await expect(failing).rejects.toThrow(/127\.0\.0\.1:1/);
  expect(children()).toEqual(before);
});
