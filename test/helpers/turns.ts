import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

// Dev stacks with 1,200 records waiting take turns across jest's workers (and checkouts) on one machine: two at
// once starved their dev servers on 2 cores, and a watcher missed its test's window. A lock file holds the turn.

const TURN = join(tmpdir(), 'capa-sync-test-turn.lock');

/** The longest a stack waits for its turn: another's whole suite. A hook that takes a turn adds it to its limit. */
export const TURN_WAIT_MS = 900_000;

/** Whether the file's holder has exited (a run killed before it gave the turn back). */
function holderExited(): boolean {
  try {
    process.kill(Number(readFileSync(TURN, 'utf8')), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Waits for the turn and takes it; the function returned gives it back. */
export async function takeTurn(): Promise<() => void> {
  for (const deadline = Date.now() + TURN_WAIT_MS; ; await sleep(1000)) {
    try {
      const fd = openSync(TURN, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(TURN, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    // Another waiter may have seen the same holder gone and removed its file first.
    if (holderExited()) rmSync(TURN, { force: true });
    else if (Date.now() > deadline) throw new Error(`another test held ${TURN} for ${TURN_WAIT_MS / 1000} s`);
  }
}
