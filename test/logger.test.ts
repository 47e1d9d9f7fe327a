import { jsonLogger } from '../src/observability/logger';

it('writes one JSON line per entry above the level: time, level, message and the fields, errors without stack', () => {
  const lines: string[] = [];
  const log = jsonLogger('info', (line) => lines.push(line));
  log.debug('not shown');
  const error = Object.assign(new Error('Vault answered 503'), { type: 'Vault.transient', cause: new Error('socket') });
  log.warn('page retried', { batchId: 'b1', page: 3, error });
  expect(lines).toHaveLength(1);
  const entry = JSON.parse(lines[0]);
  expect(entry).toEqual({
    time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    level: 'warn',
    message: 'page retried',
    batchId: 'b1',
    page: 3,
    error: {
      name: 'Error',
      message: 'Vault answered 503',
      type: 'Vault.transient',
      cause: { name: 'Error', message: 'socket' },
    },
  });
  expect(lines[0]).not.toContain(' at ');
});
