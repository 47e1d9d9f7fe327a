/**
 * A request the store refuses for good (a batch id another run holds, a staged file that is not there): the same
 * request is refused on every retry, so an activity fails at once with this message.
 */
export class StoreRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreRefused';
  }
}
