/** Pages hold distinct records, so two run at once: in a batch and in a plan alike. */
export const PAGES_IN_FLIGHT = 2;

/** The pages to run together next, from the first not done. */
export const nextPages = (done: number, total: number): number[] =>
  Array.from({ length: Math.min(PAGES_IN_FLIGHT, total - done) }, (_, i) => done + i);
