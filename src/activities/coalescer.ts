interface Pending<Item, Result> {
  item: Item;
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
}

export interface CoalescerOptions<Item, Result> {
  /** A group goes out once nobody has joined it for this long... */
  quietMs: number;
  /** ...or this long after its first member came, whichever is first: nobody waits longer. */
  maxHoldMs: number;
  /** ...or at once when it is full. */
  maxPerGroup: number;
  /** Items with the same key never share a group (e.g. two writes of one record): the later waits for the next. */
  keyOf?: (item: Item) => string;
  /** Handles one group; returns one result per item, in order. */
  send: (items: Item[]) => Promise<Result[]>;
}

/**
 * Merges items submitted by concurrent callers into groups by a short time window, and hands each caller exactly its
 * own item's result. Groups are handled one after another, so a later write of a record never overtakes an earlier
 * one. The window is short and bounded: what a group reads before it writes is seconds old at most.
 */
export class Coalescer<Item, Result> {
  private queue: Pending<Item, Result>[] = [];
  private quiet?: NodeJS.Timeout;
  private hold?: NodeJS.Timeout;
  private sending: Promise<void> = Promise.resolve();

  constructor(private readonly options: CoalescerOptions<Item, Result>) {}

  submit(item: Item): Promise<Result> {
    const result = new Promise<Result>((resolve, reject) => this.queue.push({ item, resolve, reject }));
    if (this.queue.length >= this.options.maxPerGroup) this.flush();
    else {
      clearTimeout(this.quiet);
      this.quiet = setTimeout(() => this.flush(), this.options.quietMs);
      this.hold ??= setTimeout(() => this.flush(), this.options.maxHoldMs);
    }
    return result;
  }

  private flush(): void {
    clearTimeout(this.quiet);
    clearTimeout(this.hold);
    this.quiet = this.hold = undefined;
    const { group, rest } = this.split(this.queue);
    this.queue = [];
    rest.forEach((p) => this.requeue(p));
    if (group.length) this.sending = this.sending.then(() => this.send(group));
  }

  /** One group at most `maxPerGroup`, one item per key; the rest wait for the next group. */
  private split(queue: Pending<Item, Result>[]) {
    const keys = new Set<string>();
    const group: Pending<Item, Result>[] = [];
    const rest: Pending<Item, Result>[] = [];
    for (const p of queue) {
      const key = this.options.keyOf?.(p.item);
      if (group.length >= this.options.maxPerGroup || (key !== undefined && keys.has(key))) rest.push(p);
      else {
        group.push(p);
        if (key !== undefined) keys.add(key);
      }
    }
    return { group, rest };
  }

  private requeue(p: Pending<Item, Result>): void {
    this.submit(p.item).then(p.resolve, p.reject);
  }

  private async send(group: Pending<Item, Result>[]): Promise<void> {
    try {
      const results = await this.options.send(group.map((p) => p.item));
      group.forEach((p, i) => p.resolve(results[i]));
    } catch (err) {
      group.forEach((p) => p.reject(err));
    }
  }
}
