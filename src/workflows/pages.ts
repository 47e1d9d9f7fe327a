import { patched } from '@temporalio/workflow';

/**
 * From this patch on, a batch's or a plan's pages run in a sliding window: the next page starts as soon as one ends.
 * Before it, pages ran two at a time, each pair waiting for its slower page (whose audit append waited for the
 * other's: the trail is one chain).
 */
export const PAGE_WINDOW_PATCH = 'page-window';

/** Pages hold distinct records, so several run at once: in a batch and in a plan alike. */
const PAGE_WINDOW = 3;
/** Before PAGE_WINDOW_PATCH: pages ran in pairs. */
const PAGES_IN_PAIR = 2;

export interface PageHooks<T> {
  /** A page is about to start (before the patch: the first page of a pair). */
  starting?: (page: number) => void;
  /** Once `due`, no page starts, and those running end before `begin` (continue-as-new) ends the run. */
  newRun?: { due: () => boolean; begin: () => Promise<never> };
  /** Pages done, in page order, from the first not yet reported: the pages before the next one are all done. */
  done?: (results: T[]) => void;
}

/** Runs `work` on pages `from` to `total - 1`, several side by side. */
export async function runPages<T>(
  from: number,
  total: number,
  work: (page: number) => Promise<T>,
  hooks: PageHooks<T> = {},
): Promise<void> {
  if (patched(PAGE_WINDOW_PATCH)) await inWindow(from, total, work, hooks);
  else await inPairs(from, total, work, hooks);
}

async function inWindow<T>(from: number, total: number, work: (page: number) => Promise<T>, hooks: PageHooks<T>) {
  const running = new Map<number, Promise<void>>();
  const finished = new Map<number, T>();
  let next = from;
  for (let reported = from; reported < total;) {
    const ending = hooks.newRun?.due() ?? false;
    if (ending && !running.size) await hooks.newRun!.begin();
    for (; !ending && next < total && running.size < PAGE_WINDOW; next++) {
      const page = next;
      hooks.starting?.(page);
      running.set(
        page,
        work(page).then((result) => {
          finished.set(page, result);
          running.delete(page);
        }),
      );
    }
    await Promise.race(running.values());
    const results: T[] = [];
    for (; finished.has(reported); reported++) {
      results.push(finished.get(reported)!);
      finished.delete(reported);
    }
    if (results.length) hooks.done?.(results);
  }
}

async function inPairs<T>(from: number, total: number, work: (page: number) => Promise<T>, hooks: PageHooks<T>) {
  for (let done = from; done < total;) {
    hooks.starting?.(done);
    if (hooks.newRun?.due()) await hooks.newRun.begin();
    const pair = Array.from({ length: Math.min(PAGES_IN_PAIR, total - done) }, (_, i) => done + i);
    hooks.done?.(await Promise.all(pair.map(work)));
    done += pair.length;
  }
}
