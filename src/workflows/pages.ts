/** Pages hold distinct records, so two run at once: in a batch and in a plan alike. */
const PAGES_IN_FLIGHT = 2;

/** The pages to run together next, from the first not done. */
const nextPages = (done: number, total: number): number[] =>
  Array.from({ length: Math.min(PAGES_IN_FLIGHT, total - done) }, (_, i) => done + i);

/**
 * Runs `work` on pages `from` to `total - 1`, `PAGES_IN_FLIGHT` side by side. `beforeGroup` runs ahead of each group
 * (it may end the run: continue-as-new), `afterGroup` gets the group's results once all of them are in.
 */
export async function inPageGroups<T>(
  from: number,
  total: number,
  work: (page: number) => Promise<T>,
  hooks: { beforeGroup?: (first: number) => Promise<void>; afterGroup?: (results: T[]) => void } = {},
): Promise<void> {
  for (let done = from; done < total;) {
    await hooks.beforeGroup?.(done);
    const group = nextPages(done, total);
    const results = await Promise.all(group.map(work));
    hooks.afterGroup?.(results);
    done += group.length;
  }
}
