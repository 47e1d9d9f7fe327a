/**
 * Rows in key order, a page at a time (a large batch or trail is never held whole): `page(after)` reads the rows
 * whose key follows `after`, at most `size` of them; a short page is the last.
 */
export async function* inPages<T>(
  size: number,
  page: (after: number) => Promise<T[]>,
  keyOf: (row: T) => number,
): AsyncGenerator<T> {
  for (let after = 0; ;) {
    const rows = await page(after);
    yield* rows;
    if (rows.length < size) return;
    after = keyOf(rows[rows.length - 1]);
  }
}

/** The fields whose column is not NULL: what an optional property of a row's object takes. */
export const present = <T extends Record<string, unknown>>(fields: T) =>
  Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== null)) as {
    [K in keyof T]?: NonNullable<T[K]>;
  };
