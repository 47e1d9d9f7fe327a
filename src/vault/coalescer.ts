interface Pending<Item, Result> {
  item: Item;
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
}

export interface CoalescerOptions<Item, Result> {
  /** A request goes out once no caller has joined for this long... */
  windowMs: number;
  /** ...or this long after its first caller, whichever comes first (default 20 windows). */
  maxDelayMs?: number;
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
  private firstArrival = 0;

  constructor(private readonly options: CoalescerOptions<Item, Result>) {}

  submit(items: Item[]): Promise<Result[]> {
    const promises = items.map(
      (item) => new Promise<Result>((resolve, reject) => this.queue.push({ item, resolve, reject })),
    );
    // Debounced: callers woken by the same timer tick arrive spread over a few hundred ms on a busy worker.
    const now = Date.now();
    if (!this.timer) this.firstArrival = now;
    clearTimeout(this.timer);
    const deadline = this.firstArrival + (this.options.maxDelayMs ?? this.options.windowMs * 20);
    this.timer = setTimeout(() => void this.flush(), Math.max(0, Math.min(this.options.windowMs, deadline - now)));
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
      let target = requests.find(
        (r) => r.members.length < this.options.maxPerRequest && (key === undefined || !r.keys.has(key)),
      );
      if (!target) requests.push((target = { members: [], keys: new Set() }));
      target.members.push(p);
      if (key !== undefined) target.keys.add(key);
    }
    return requests.map((r) => r.members);
  }
}
