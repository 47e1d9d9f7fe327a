import { UnlockWindow, type UnlockWindowOptions } from '../src/activities/unlock-window';

// The watcher's window of unlocks in flight, against a store stand-in that says which records still wait: room as
// records settle, stuck records that stop holding the others, the tick's deadline, and a tick given up.

const ids = (from: number, n: number) => Array.from({ length: n }, (_, i) => `V${from + i}`);

/** A window over records that settle when the test says so. */
function windowOver(options: Partial<UnlockWindowOptions> = {}) {
  const settled = new Set<string>();
  const asked: string[][] = [];
  const window = new UnlockWindow({
    size: 10,
    deadline: Date.now() + 60_000,
    stillWaiting: async (recordIds) => {
      asked.push(recordIds);
      return recordIds.filter((id) => !settled.has(id));
    },
    stopIfGivenUp: () => undefined,
    pollMs: 5,
    stallMs: 60_000,
    ...options,
  });
  return { window, settled, asked };
}

it('gives room up to its size, asking the store nothing while it has room', async () => {
  const { window, asked } = windowOver();
  expect(await window.room(4)).toBe(4);
  window.told(ids(0, 4));
  expect(await window.room(25)).toBe(6);
  expect(asked).toEqual([]);
});

it('waits while full, and gives the room of the records that settled', async () => {
  const { window, settled, asked } = windowOver();
  window.told(ids(0, 10));
  const room = window.room(8);
  setTimeout(() => ids(0, 3).forEach((id) => settled.add(id)), 30);
  expect(await room).toBe(3);
  expect(asked.length).toBeGreaterThan(1); // it polled the store until they settled
  window.told(ids(10, 3));
  ids(3, 7).forEach((id) => settled.add(id));
  expect(await window.room(20)).toBe(7); // only the three just told still wait
});

it('stops counting records that settle none within the stall time: stuck records do not hold the others', async () => {
  const { window } = windowOver({ stallMs: 80 });
  window.told(ids(0, 10)); // a decision each, say: they never settle
  const started = Date.now();
  expect(await window.room(5)).toBe(5);
  expect(Date.now() - started).toBeGreaterThanOrEqual(80);
});

it("counts the stall from the last tell or settlement, not from the window's start", async () => {
  const { window, settled } = windowOver({ stallMs: 200 });
  await new Promise((resolve) => setTimeout(resolve, 250));
  window.told(ids(0, 10));
  setTimeout(() => settled.add('V0'), 100);
  expect(await window.room(5)).toBe(1); // V0 settled before the stall time since the tell
});

it("gives no room once the tick's deadline passes while it is full, and keeps giving none", async () => {
  const { window } = windowOver({ deadline: Date.now() + 50 });
  window.told(ids(0, 10));
  expect(await window.room(5)).toBe(0);
  expect(await window.room(5)).toBe(0);
});

it('stops waiting once the tick is given up', async () => {
  let givenUp = false;
  const { window } = windowOver({
    stopIfGivenUp: () => {
      if (givenUp) throw new Error('the attempt was given up');
    },
  });
  window.told(ids(0, 10));
  const room = window.room(1);
  setTimeout(() => (givenUp = true), 20);
  await expect(room).rejects.toThrow('the attempt was given up');
});
