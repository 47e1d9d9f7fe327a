import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

// Dev stacks with 1,200 records waiting take turns across jest's workers (and checkouts) on one machine: two at
// once starved their dev servers on 2 cores, and a watcher missed its test's window. A lock file holds the turn.

const TURN = join(tmpdir(), 'capa-sync-test-turn.lock');

/** The longest a stack waits for its turn (a suite that holds it takes about 6 minutes); hooks add it to their limit. */
export const TURN_WAIT_MS = 900_000;

/** The process holding the turn, if any. */
function holder(): number | undefined {
  try {
    return Number(readFileSync(TURN, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Whether the holder left the turn behind: it exited (a run killed), or it is this process, whose last suite did not
 * stop its stack (a jest worker runs one file at a time, and no file holds two turns).
 */
function holderLeft(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Waits for the turn and takes it; the function returned gives it back. */
export async function takeTurn(): Promise<() => void> {
  // The turn's file appears whole, with its holder's pid in it: a hard link of a file written first.
  const mine = `${TURN}.${process.pid}`;
  writeFileSync(mine, String(process.pid));
  try {
    for (const deadline = Date.now() + TURN_WAIT_MS; ; await sleep(1000)) {
      try {
        linkSync(mine, TURN);
        return () => {
          if (holder() === process.pid) rmSync(TURN, { force: true });
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const pid = holder();
      // Another waiter may have seen the same holder gone and removed its file first.
      if (pid !== undefined && holderLeft(pid)) rmSync(TURN, { force: true });
      else if (Date.now() > deadline) throw new Error(`process ${pid} held ${TURN} for ${TURN_WAIT_MS / 1000} s`);
    }
  } finally {
    rmSync(mine, { force: true });
  }
}
