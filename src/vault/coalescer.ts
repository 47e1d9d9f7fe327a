interface Pending<Item, Result> {
  item: Item;
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
}

export interface CoalescerOptions<Item, Result> {
  /** How long the first caller waits for others to join its request. */
  windowMs: number;
  maxPerRequest: number;
  /** Items with the same key never share a request (e.g. two updates of one record). */
  keyOf?: (item: Item) => string;
  /** Sends one request; returns one result per item, in order. */
  send: (items: Item[]) => Promise<Result[]>;
}

/**
 * Merges items submitted by concurrent callers within a short window into as few requests as the limits allow,
 * and hands each caller exactly its own items' results. Requests of one flush go out in order, so a later
 * update of a record never overtakes an earlier one.
 */
export class Coalescer<Item, Result> {
  private queue: Pending<Item, Result>[] = [];
  private timer?: NodeJS.Timeout;

  constructor(private readonly options: CoalescerOptions<Item, Result>) {}

  submit(items: Item[]): Promise<Result[]> {
    const promises = items.map((item) => new Promise<Result>((resolve, reject) => this.queue.push({ item, resolve, reject })));
    this.timer ??= setTimeout(() => void this.flush(), this.options.windowMs);
    return Promise.all(promises);
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    const queue = this.queue;
    this.queue = [];
    for (const request of this.split(queue)) {
      try {
        const results = await this.options.send(request.map((p) => p.item));
        request.forEach((p, i) => p.resolve(results[i]));
      } catch (err) {
        request.forEach((p) => p.reject(err));
      }
    }
  }

  private split(queue: Pending<Item, Result>[]): Pending<Item, Result>[][] {
    const requests: { members: Pending<Item, Result>[]; keys: Set<string> }[] = [];
    for (const p of queue) {
      const key = this.options.keyOf?.(p.item);
      let target = requests.find((r) => r.members.length < this.options.maxPerRequest && (key === undefined || !r.keys.has(key)));
      if (!target) requests.push((target = { members: [], keys: new Set() }));
      target.members.push(p);
      if (key !== undefined) target.keys.add(key);
    }
    return requests.map((r) => r.members);
  }
}
