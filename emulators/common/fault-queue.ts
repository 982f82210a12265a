/**
 * A queue of injected faults, consumed one per request (or per connection, for a connection-oriented
 * emulator such as SFTP). Tests push faults and the emulator takes the next one for each request it
 * serves; when the queue is empty the emulator behaves normally.
 */
export class FaultQueue<F> {
  private readonly queue: F[] = [];
  /** Every fault consumed so far, in order (for assertions). */
  readonly consumed: F[] = [];

  constructor(initial: readonly F[] = []) {
    this.queue.push(...initial);
  }

  push(...faults: F[]): this {
    this.queue.push(...faults);
    return this;
  }

  /** Takes the next fault, or `undefined` when none is queued. */
  next(): F | undefined {
    const f = this.queue.shift();
    if (f !== undefined) this.consumed.push(f);
    return f;
  }

  /** Takes the next fault only when `match` accepts it (faults aimed at one kind of request). */
  nextIf(match: (f: F) => boolean): F | undefined {
    const head = this.queue[0];
    if (head === undefined || !match(head)) return undefined;
    return this.next();
  }

  get pending(): number {
    return this.queue.length;
  }

  clear(): void {
    this.queue.length = 0;
  }
}
