import { SourceError } from './source-error';

// Hand-written, not stream-json: this splitter only finds where each array element or line ends and caps its
// size, so a 200 MB array with one 10 MB string costs a capped buffer and the row alone is rejected; JSON.parse then
// reads each element. stream-json's StreamArray assembles each element, strings and all, before a check could refuse it.

/** One element of a streamed document: its text, or only its size where it was longer than the cap. */
export type StreamedElement = { text: string } | { oversizedChars: number };

/** Collects an element from slices of chunks; past the cap it only counts, so one huge value costs no memory. */
class CappedText {
  private parts: string[] = [];
  private size = 0;

  constructor(private readonly maxChars: number) {}

  append(slice: string): void {
    this.size += slice.length;
    if (this.size <= this.maxChars) this.parts.push(slice);
    else this.parts = [];
  }

  /** The element so far (undefined when blank), and a fresh start. */
  take(): StreamedElement | undefined {
    const element: StreamedElement | undefined =
      this.size > this.maxChars ? { oversizedChars: this.size } : { text: this.parts.join('') };
    this.parts = [];
    this.size = 0;
    return 'text' in element && !element.text.trim() ? undefined : element;
  }
}

/**
 * Splits a JSON array document into its top-level elements as they stream in, so that a large export is parsed
 * one row at a time (each element's text is handed to JSON.parse by the caller). Refuses a document that is not
 * one array: anything before its `[` or after its `]`, or an array that never closes.
 */
export async function* splitJsonArray(
  chunks: AsyncIterable<string>,
  maxChars: number,
): AsyncGenerator<StreamedElement> {
  let state: 'before' | 'inside' | 'after' = 'before';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let elements = 0;
  const element = new CappedText(maxChars);
  for await (const chunk of chunks) {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk[i];
      if (state !== 'inside') {
        if (state === 'before' && ch === '[') {
          state = 'inside';
          start = i + 1;
        } else if (!/\s|\uFEFF/.test(ch)) {
          throw new SourceError(
            state === 'before'
              ? 'a JSON source must be an array of objects'
              : `content after the closing ] of the JSON array (after element ${elements})`,
          );
        }
        continue;
      }
      if (inString) {
        if (escaped) escaped = false;
        else if (ch === '\\') escaped = true;
        else if (ch === '"') inString = false;
        continue;
      }
      if (depth === 0 && (ch === ',' || ch === ']')) {
        element.append(chunk.slice(start, i));
        start = i + 1;
        const taken = element.take();
        if (taken) {
          elements++;
          yield taken;
        }
        if (ch === ']') state = 'after';
        continue;
      }
      if (ch === '"') inString = true;
      else if (ch === '{' || ch === '[') depth++;
      else if (ch === '}' || ch === ']') depth--;
    }
    if (state === 'inside') element.append(chunk.slice(start));
  }
  if (state === 'before') throw new SourceError('the source is empty');
  if (state === 'inside') throw new SourceError(`the JSON array is not closed (after element ${elements})`);
}

/** Splits JSON Lines into lines with their 1-based line numbers; a line longer than the cap is only measured. */
export async function* splitLines(
  chunks: AsyncIterable<string>,
  maxChars: number,
): AsyncGenerator<StreamedElement & { line: number }> {
  let line = 0;
  const current = new CappedText(maxChars);
  for await (const chunk of chunks) {
    let start = 0;
    let nl: number;
    while ((nl = chunk.indexOf('\n', start)) >= 0) {
      current.append(chunk.slice(start, nl));
      start = nl + 1;
      line++;
      const taken = current.take();
      if (taken) yield { ...taken, line };
    }
    current.append(chunk.slice(start));
  }
  const last = current.take();
  if (last) yield { ...last, line: line + 1 };
}
