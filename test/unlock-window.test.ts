import { UnlockWindow, type UnlockWindowOptions } from '../src/activities/unlock-window';

// The watcher's window of unlocks in flight, against a store stand-in that says which records still wait: room as
// records settle, records told before the tick, stuck records that stop holding their places, the tick's deadline,
// and a tick given up.

const ids = (from: number, n: number) => Array.from({ length: n }, (_, i) => `V${from + i}`);

/** A window over records that settle when the test says so. */
function windowOver(
  options: Partial<UnlockWindowOptions> = {},
  earlier?: ConstructorParameters<typeof UnlockWindow>[1],
) {
  const settled = new Set<string>();
  const asked: string[][] = [];
  const window = new UnlockWindow(
    {
      size: 10,
      deadline: Date.now() + 60_000,
      stallMs: 60_000,
      stillWaiting: async (recordIds) => {
        asked.push(recordIds);
        return recordIds.filter((id) => !settled.has(id));
      },
      stopIfGivenUp: () => undefined,
      pollMs: 5,
      ...options,
    },
    earlier,
  );
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

it('counts the records told before the tick that still wait', async () => {
  const { window } = windowOver(
    {},
    ids(0, 8).map((recordId) => ({ recordId, toldMsAgo: 1_000 })),
  );
  expect(await window.room(5)).toBe(2);
});

it('drops each record that has not settled within the stall time, however the others do', async () => {
  // V0 was told 250 ms ago and never settles (a decision, say); V1 to V9 were just told and wait too.
  const { window } = windowOver({ stallMs: 300 }, [{ recordId: 'V0', toldMsAgo: 250 }]);
  window.told(ids(1, 9));
  const started = Date.now();
  expect(await window.room(5)).toBe(1); // V0's place, 50 ms on; the others still hold theirs
  expect(Date.now() - started).toBeGreaterThanOrEqual(40);
  expect(Date.now() - started).toBeLessThan(250);
});

it("gives no room once the tick's deadline passes while it is full, and keeps giving none", async () => {
  const { window } = windowOver({ deadline: Date.now() + 50 });
  window.told(ids(0, 10));
  expect(await window.room(5)).toBe(0);
  expect(await window.room(5)).toBe(0);
});

it('gives the room it has past the deadline: a tick that read for longer still tells what the window holds', async () => {
  const { window, asked } = windowOver({ deadline: Date.now() - 1 });
  window.told(ids(0, 4));
  expect(await window.room(25)).toBe(6);
  window.told(ids(4, 6));
  expect(await window.room(1)).toBe(0);
  expect(asked.length).toBe(1); // it asked the store once which settled, and did not wait
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
