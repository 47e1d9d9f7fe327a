/**
 * A problem with the source as a whole (unreadable, malformed, empty, too large): the same input fails the same
 * way every time, so the batch fails at once with this message instead of being retried.
 */
export class SourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceError';
  }
}
