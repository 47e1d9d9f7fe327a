import { Coalescer } from '../src/activities/coalescer';
import { setTimeout as sleep } from 'node:timers/promises';

// The write group: callers merge by a short time window, never wait past its hold, and each gets its own result.

function recording(options: { quietMs: number; maxHoldMs: number; maxPerGroup: number }) {
  const groups: number[][] = [];
  const coalescer = new Coalescer<number, string>({
    ...options,
    keyOf: (n) => String(n),
    send: async (items) => {
      groups.push(items);
      return items.map((n) => `result ${n}`);
    },
  });
  return { coalescer, groups };
}

it('merges callers that come within the quiet window, and answers each with its own result', async () => {
  const { coalescer, groups } = recording({ quietMs: 50, maxHoldMs: 1_000, maxPerGroup: 500 });
  const results = await Promise.all([1, 2, 3].map((n) => coalescer.submit(n)));
  expect(results).toEqual(['result 1', 'result 2', 'result 3']);
  expect(groups).toEqual([[1, 2, 3]]);
});

it('sends a group at its hold even while callers keep coming, so nobody waits longer', async () => {
  const { coalescer, groups } = recording({ quietMs: 100, maxHoldMs: 300, maxPerGroup: 500 });
  const calls: Promise<string>[] = [];
  const start = Date.now();
  for (let i = 0; i < 12; i++) {
    calls.push(coalescer.submit(i));
    await sleep(50);
  }
  await Promise.all(calls);
  expect(groups.length).toBeGreaterThanOrEqual(2);
  expect(groups.flat()).toEqual([...Array(12).keys()]);
  expect(Date.now() - start).toBeLessThan(2_000);
});

it('sends a full group at once, and the same key never twice in one group', async () => {
  const { coalescer, groups } = recording({ quietMs: 10_000, maxHoldMs: 10_000, maxPerGroup: 3 });
  const results = await Promise.all([1, 2, 3].map((n) => coalescer.submit(n)));
  expect(results).toHaveLength(3);
  const { coalescer: keyed, groups: keyedGroups } = recording({ quietMs: 20, maxHoldMs: 1_000, maxPerGroup: 10 });
  await Promise.all([keyed.submit(7), keyed.submit(7), keyed.submit(8)]);
  expect(groups).toEqual([[1, 2, 3]]);
  expect(keyedGroups).toEqual([[7, 8], [7]]);
});

it('fails every caller of a group whose handling failed, and only them', async () => {
  let fail = true;
  const coalescer = new Coalescer<number, number>({
    quietMs: 10,
    maxHoldMs: 100,
    maxPerGroup: 10,
    send: async (items) => {
      if (fail) throw new Error('Vault is down');
      return items;
    },
  });
  await expect(Promise.all([coalescer.submit(1), coalescer.submit(2)])).rejects.toThrow('Vault is down');
  fail = false;
  await expect(coalescer.submit(3)).resolves.toBe(3);
});
