/**
 * Splits a JSON array document into its top-level elements as they stream in, so that a large export is
 * parsed one row at a time. Each element's text is handed to JSON.parse by the caller.
 */
export async function* splitJsonArray(chunks: AsyncIterable<string>): AsyncGenerator<string> {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let started = false;
  let element = '';
  for await (const chunk of chunks) {
    for (const ch of chunk) {
      if (!started) {
        if (ch === '[') started = true;
        else if (!/\s|\uFEFF/.test(ch)) throw new SyntaxError('a JSON source must be an array of objects');
        continue;
      }
      if (inString) {
        element += ch;
        if (escaped) escaped = false;
        else if (ch === '\\') escaped = true;
        else if (ch === '"') inString = false;
        continue;
      }
      if (depth === 0 && (ch === ',' || ch === ']')) {
        if (element.trim()) yield element;
        element = '';
        if (ch === ']') return;
        continue;
      }
      if (ch === '"') inString = true;
      else if (ch === '{' || ch === '[') depth++;
      else if (ch === '}' || ch === ']') depth--;
      element += ch;
    }
  }
  throw new SyntaxError('the JSON array is not closed');
}

/** Splits JSON Lines into lines, with their 1-based line numbers. */
export async function* splitLines(chunks: AsyncIterable<string>): AsyncGenerator<{ text: string; line: number }> {
  let buffer = '';
  let line = 0;
  for await (const chunk of chunks) {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      line++;
      const text = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      if (text.trim()) yield { text, line };
    }
  }
  if (buffer.trim()) yield { text: buffer, line: line + 1 };
}
