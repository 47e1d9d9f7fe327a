import { ServiceError } from '@temporalio/client';
import { workflowResult } from '../src/temporal/workflow-result';

// Waiting for a batch's result outlasts a server too busy to answer its long poll in time (the bench at 200,000
// waiting died of one such answer while its batch ran on), and gives any other error to the caller.

/** gRPC's status codes. */
const DEADLINE_EXCEEDED = 4;
const PERMISSION_DENIED = 7;

const refusal = (code: number, details: string) =>
  new ServiceError('Failed to get Workflow execution history', {
    cause: Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} }),
  });

/** A handle whose result() throws the given errors, one a call, then answers. */
const handleFailing = (...errors: Error[]) => ({
  calls: 0,
  async result() {
    const err = errors[this.calls++];
    if (err) throw err;
    return 'done';
  },
});

it('asks again when the server cuts its long poll with DEADLINE_EXCEEDED', async () => {
  const handle = handleFailing(refusal(DEADLINE_EXCEEDED, 'context deadline exceeded'));
  await expect(workflowResult(handle)).resolves.toBe('done');
  expect(handle.calls).toBe(2);
});

it('gives any other answer to the caller', async () => {
  const handle = handleFailing(refusal(PERMISSION_DENIED, 'not allowed'));
  await expect(workflowResult(handle)).rejects.toThrow('Failed to get Workflow execution history');
  expect(handle.calls).toBe(1);
});
