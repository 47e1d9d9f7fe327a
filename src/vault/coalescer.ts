interface Pending<Item, Result> {
  item: Item;
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
}

interface Group<Item, Result> {
  queue: Pending<Item, Result>[];
  timer?: NodeJS.Timeout;
  quiet?: NodeJS.Timeout;
  firstArrival: number;
}

export interface CoalescerOptions<Item, Result> {
  /** An unscheduled request goes out once no caller has joined for this long... */
  windowMs: number;
  /** ...or this long after its first caller, whichever comes first (default 20 windows); a tick's always waits it. */
  maxDelayMs?: number;
  /** A tick's group also goes out once no caller has joined for this long (its callers have all come, or won't). */
  tickQuietMs?: number;
  maxPerRequest: number;
  /** Items with the same key never share a request (e.g. two updates of one record). */
  keyOf?: (item: Item) => string;
  /** Sends one request; returns one result per item, in order. */
  send: (items: Item[]) => Promise<Result[]>;
}

/**
 * Merges items submitted by concurrent callers into as few requests as the limits allow, and hands each caller
 * exactly its own items' results. Requests of one flush go out in order, so a later update of a record never
 * overtakes an earlier one. Hand-written because this merge is the product: it is what makes 5,000 waiting records
 * cost five Vault queries a tick.
 *
 * Callers may name the tick they belong to (wall-clock-aligned polling, or the lock watcher's tick). A tick's
 * callers arrive spread over seconds on a busy worker, with gaps longer than any quiet window, so a tick's group is
 * not closed by the quiet window: it goes out once as many callers have come as the tick expects (the watcher says
 * how many it told; else as many as came at the previous tick), once it fills a request, after `tickQuietMs` of
 * quiet where set, or at its deadline, whichever is first.
 */
export class Coalescer<Item, Result> {
  private readonly groups = new Map<string, Group<Item, Result>>();
  /** The newest tick seen, how many items came for it, and how many came for the tick before it. */
  private tick = { at: -Infinity, count: 0, expected: 0 };

  constructor(private readonly options: CoalescerOptions<Item, Result>) {}

  private get maxDelayMs(): number {
    return this.options.maxDelayMs ?? this.options.windowMs * 20;
  }

  submit(items: Item[], tick?: { at: number; expected?: number }): Promise<Result[]> {
    const groupKey = tick === undefined ? 'unscheduled' : `tick ${tick.at}`;
    let group = this.groups.get(groupKey);
    const now = Date.now();
    if (!group) this.groups.set(groupKey, (group = { queue: [], firstArrival: now }));
    const promises = items.map(
      (item) => new Promise<Result>((resolve, reject) => group.queue.push({ item, resolve, reject })),
    );
    // Counted first: a caller that fills a request is one of its tick's callers too.
    const tickComplete = tick !== undefined && this.completes(tick, items);
    if (group.queue.length >= this.options.maxPerRequest || tickComplete) {
      this.flush(groupKey);
    } else if (tick === undefined) {
      clearTimeout(group.timer);
      const deadline = group.firstArrival + this.maxDelayMs;
      group.timer = setTimeout(
        () => this.flush(groupKey),
        Math.max(0, Math.min(this.options.windowMs, deadline - now)),
      );
    } else {
      group.timer ??= setTimeout(() => this.flush(groupKey), this.maxDelayMs);
      const { tickQuietMs } = this.options;
      if (tickQuietMs !== undefined) {
        clearTimeout(group.quiet);
        group.quiet = setTimeout(() => this.flush(groupKey), tickQuietMs);
      }
    }
    return Promise.all(promises);
  }

  /** Counts a tick's items; true when they just reached the count the tick expects. */
  private completes(tick: { at: number; expected?: number }, items: Item[]): boolean {
    if (tick.at > this.tick.at) this.tick = { at: tick.at, count: 0, expected: tick.expected ?? this.tick.count };
    if (tick.at !== this.tick.at) return false; // a late caller of an earlier tick
    const before = this.tick.count;
    this.tick.count += items.length;
    return before < this.tick.expected && this.tick.count >= this.tick.expected;
  }

  private flush(groupKey: string): void {
    const group = this.groups.get(groupKey);
    if (!group) return;
    this.groups.delete(groupKey);
    clearTimeout(group.timer);
    clearTimeout(group.quiet);
    void this.send(group.queue);
  }

  private async send(queue: Pending<Item, Result>[]): Promise<void> {
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
