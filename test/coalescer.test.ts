import { setTimeout as sleep } from 'node:timers/promises';
import { Coalescer } from '../src/vault/coalescer';

// The merge alone, on real timers with short windows: a slow worker is callers arriving with long gaps.

function recorder(maxPerRequest = 1000, windowMs = 10, maxDelayMs = 1500) {
  const requests: { items: number[]; at: number }[] = [];
  const coalescer = new Coalescer<number, string>({
    windowMs,
    maxDelayMs,
    maxPerRequest,
    send: async (items) => {
      requests.push({ items, at: Date.now() });
      return items.map((i) => `result ${i}`);
    },
  });
  return { coalescer, requests };
}

/** `n` callers of one tick, one every `gapMs`, as a busy worker wakes them; resolves with their results. */
async function tick(coalescer: Coalescer<number, string>, tickAt: number, n: number, gapMs: number) {
  const calls: Promise<string[]>[] = [];
  for (let i = 0; i < n; i++) {
    calls.push(coalescer.submit([i], { at: tickAt }));
    await sleep(gapMs);
  }
  return Promise.all(calls);
}

it("merges a tick's callers arriving with gaps three times the quiet window into one request", async () => {
  const { coalescer, requests } = recorder();
  const results = await tick(coalescer, 1_000, 20, 30);
  expect(requests.map((r) => r.items.length)).toEqual([20]);
  results.forEach((r, i) => expect(r).toEqual([`result ${i}`]));
});

it('sends the next tick as soon as as many callers have come as at the tick before, not at the deadline', async () => {
  const { coalescer, requests } = recorder();
  await tick(coalescer, 1_000, 20, 5);
  const start = Date.now();
  await tick(coalescer, 2_000, 20, 5);
  expect(requests.map((r) => r.items.length)).toEqual([20, 20]);
  expect(requests[1].at - start).toBeLessThan(1_000); // the deadline is 1,500 ms
});

it('waits out the deadline when fewer callers come (a record unlocked), and sends stragglers together', async () => {
  const { coalescer, requests } = recorder();
  await tick(coalescer, 1_000, 20, 1);
  await tick(coalescer, 2_000, 19, 1);
  expect(requests.map((r) => r.items.length)).toEqual([20, 19]);
  // More than before (records handed off since): the first 19 go at once, the rest together at the deadline.
  await tick(coalescer, 3_000, 25, 1);
  expect(requests.slice(2).map((r) => r.items.length)).toEqual([19, 6]);
});

it('sends a full request at once, and keeps a late caller of an earlier tick apart', async () => {
  const { coalescer, requests } = recorder(10);
  const start = Date.now();
  const full = await tick(coalescer, 1_000, 10, 0);
  expect(Date.now() - start).toBeLessThan(1_000);
  expect(full).toHaveLength(10);
  const [late, current] = await Promise.all([coalescer.submit([99], { at: 500 }), tick(coalescer, 2_000, 3, 0)]);
  expect(late).toEqual(['result 99']);
  expect(current.flat()).toEqual(['result 0', 'result 1', 'result 2']);
  expect(requests.map((r) => r.items.length)).toEqual([10, 1, 3]);
});

it('debounces unscheduled callers on quiet time, as before', async () => {
  const { coalescer, requests } = recorder();
  await Promise.all([coalescer.submit([1]), coalescer.submit([2])]);
  await sleep(30);
  await coalescer.submit([3]);
  expect(requests.map((r) => r.items)).toEqual([[1, 2], [3]]);
});

it("sends a watcher's tick once as many callers have come as it told, and closes a tick on quiet where asked", async () => {
  const { coalescer, requests } = recorder();
  // The tick before had 20 callers; the watcher says 5 come at this one: they go at once, not at the deadline.
  await tick(coalescer, 1_000, 20, 1);
  const start = Date.now();
  await Promise.all([0, 1, 2, 3, 4].map((i) => coalescer.submit([i], { at: 2_000, expected: 5 })));
  expect(Date.now() - start).toBeLessThan(1_000);
  expect(requests.map((r) => r.items.length)).toEqual([20, 5]);

  const quiet = new Coalescer<number, string>({
    windowMs: 50,
    maxDelayMs: 60_000,
    tickQuietMs: 200,
    maxPerRequest: 500,
    send: async (items) => items.map((i) => `result ${i}`),
  });
  // Told 10, 7 come (three did not write): the group goes after 200 ms of quiet, long before its deadline.
  const t0 = Date.now();
  const results = await Promise.all([...Array(7).keys()].map((i) => quiet.submit([i], { at: 3_000, expected: 10 })));
  expect(results.flat()).toHaveLength(7);
  expect(Date.now() - t0).toBeLessThan(2_000);
});
