/**
 * Groups items handed in one at a time into batches that one call applies together (the traffic
 * ingest: many sensors' messages in one transaction), so each item's caller still gets its own
 * answer. Generic: nothing in it knows about traffic, so other ingest paths can use it.
 *
 * Contract:
 * - `add(item, weight)` resolves with the item's result once the batch holding it was applied —
 *   i.e. after `apply` resolved (for a database: after the commit) — and rejects with `apply`'s
 *   error when that batch failed: every item of a failed batch rejects, none resolves.
 * - A batch is sent when it holds `maxItems` items or `maxWeight` weight (an item heavier than
 *   that goes alone), or `maxDelayMs` after its first item came, whichever is first; at most
 *   `concurrency` batches are being applied at once (further full batches wait their turn).
 * - Items keep their order within a batch, and batches start in the order they were formed.
 * - `apply` must return one result per item, in order; a wrong count fails the batch.
 * - With `coalesce` (group commit), a batch due by its delay while all `concurrency` slots are
 *   busy is not queued behind them: it keeps taking items (up to `maxItems` / `maxWeight`) and is
 *   sent as soon as a slot frees, so under load batches grow with the time a batch takes instead
 *   of queueing as many small ones.
 */
export interface BatcherOptions {
  maxItems: number;
  maxWeight: number;
  maxDelayMs: number;
  concurrency: number;
  /** Group commit: see the contract. Default false. */
  coalesce?: boolean;
}

interface Pending<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (err: unknown) => void;
}

export class Batcher<T, R> {
  private current: Pending<T, R>[] = [];
  private currentWeight = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly ready: Pending<T, R>[][] = [];
  private running = 0;
  private idle: (() => void)[] = [];
  /** coalesce: the current batch's delay has passed while every slot was busy. */
  private due = false;

  constructor(
    private readonly apply: (items: T[]) => Promise<R[]>,
    private readonly opts: BatcherOptions,
  ) {
    for (const key of ['maxItems', 'maxWeight', 'concurrency'] as const) {
      if (!Number.isSafeInteger(opts[key]) || opts[key] < 1) throw new Error(`Batcher: ${key} must be a positive integer, got ${opts[key]}`);
    }
    if (!(opts.maxDelayMs >= 0)) throw new Error(`Batcher: maxDelayMs must be >= 0, got ${opts.maxDelayMs}`);
  }

  add(item: T, weight = 1): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (this.current.length > 0 && this.currentWeight + weight > this.opts.maxWeight) this.seal();
      this.current.push({ item, resolve, reject });
      this.currentWeight += weight;
      if (this.current.length >= this.opts.maxItems || this.currentWeight >= this.opts.maxWeight) this.seal();
      else if (!this.due) this.timer ??= setTimeout(() => this.expire(), this.opts.maxDelayMs);
      this.pump();
    });
  }

  /** Resolves when everything handed in so far has been applied or has failed. */
  async drain(): Promise<void> {
    if (this.current.length > 0) this.seal();
    this.pump();
    while (this.running > 0 || this.ready.length > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  /** The current batch's delay has passed: send it, or (coalesce, no free slot) let it grow until one frees. */
  private expire(): void {
    this.timer = null;
    if (this.opts.coalesce === true && this.running >= this.opts.concurrency && this.current.length > 0) {
      this.due = true;
      return;
    }
    this.seal();
  }

  private seal(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.due = false;
    if (this.current.length === 0) return;
    this.ready.push(this.current);
    this.current = [];
    this.currentWeight = 0;
    this.pump();
  }

  private pump(): void {
    while (this.running < this.opts.concurrency && this.ready.length > 0) {
      const batch = this.ready.shift()!;
      this.running++;
      void this.run(batch);
    }
  }

  private async run(batch: Pending<T, R>[]): Promise<void> {
    try {
      const results = await this.apply(batch.map((p) => p.item));
      if (results.length !== batch.length) throw new Error(`Batcher: apply returned ${results.length} results for ${batch.length} items`);
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.running--;
      if (this.due && this.ready.length === 0) this.seal();
      this.pump();
      if (this.running === 0 && this.ready.length === 0) for (const wake of this.idle.splice(0)) wake();
    }
  }
}
