/** A value as COPY's text format wants it: NULL as \N, and backslash, tab, newline and return escaped. */
export const copyText = (v: string | number | null | undefined) =>
  v === null || v === undefined
    ? '\\N'
    : String(v).replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!);

/** One line of COPY's text format. */
export const copyLine = (cells: (string | number | null | undefined)[]) => cells.map(copyText).join('\t');
