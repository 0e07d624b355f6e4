import { EnvError } from '../client';

/**
 * Per-key limits of the gateway, kept in this process: a token bucket for steps per minute, and
 * the ids of what each key has open (sessions, rollouts) with their weight. An id counted as open
 * is asked about again (`stillOpen`) only when its key is at its limit, so ended ones stop counting;
 * and at most once per PRUNE_EVERY_MS for a key, so a client hammering past its cap costs the
 * engine nothing more than a well-behaved one.
 */

const PRUNE_EVERY_MS = 2000;

export class StepRate {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /** Takes one step's token for `key`, or throws a 429 saying when the next one is due. */
  take(key: string, perMinute: number, now = Date.now()): void {
    const rate = perMinute / 60_000;
    const bucket = this.buckets.get(key) ?? { tokens: perMinute, at: now };
    bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.at) * rate);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) {
      const retryAfterS = Math.max(1, Math.ceil((1 - bucket.tokens) / rate / 1000));
      throw new EnvError(
        'too-many-requests',
        `this key may take ${perMinute} steps a minute and has used them: retry in ${retryAfterS} s`,
        retryAfterS,
      );
    }
    bucket.tokens -= 1;
  }
}

export class OpenSet {
  private readonly open = new Map<string, Map<string, number>>();

  constructor(
    /** what is counted, for messages: "sessions", "rollout episodes" */
    private readonly what: string,
    private readonly stillOpen: (id: string) => Promise<boolean>,
    private readonly retryAfterS: number,
  ) {}

  private reservations = 0;
  /** each key's last look at what is still open: when, and the look itself (shared while it runs) */
  private readonly pruned = new Map<string, { at: number; done: Promise<void> }>();

  /**
   * Holds `weight` for `key`, or throws a 429 if that would take it over `limit` (after dropping
   * what has ended). Call the answer with the id it became, or with nothing to let it go.
   */
  async reserve(key: string, weight: number, limit: number): Promise<(id?: string) => void> {
    if (this.used(key) + weight > limit) await this.prune(key);
    const used = this.used(key);
    if (used + weight > limit) {
      throw new EnvError(
        'too-many-requests',
        `this key has ${used} ${this.what} open and may have ${limit} at once (asked for ${weight} more): ` +
          `close some, or retry in ${this.retryAfterS} s`,
        this.retryAfterS,
      );
    }
    const pending = `\0pending-${++this.reservations}`;
    this.add(key, pending, weight);
    return (id) => {
      this.close(key, pending);
      if (id) this.add(key, id, weight);
    };
  }

  private prune(key: string): Promise<void> {
    const last = this.pruned.get(key);
    if (last && Date.now() - last.at < PRUNE_EVERY_MS) return last.done;
    const done = this.pruneNow(key);
    this.pruned.set(key, { at: Date.now(), done });
    return done;
  }

  private async pruneNow(key: string): Promise<void> {
    const ids = [...(this.open.get(key)?.keys() ?? [])].filter((id) => !id.startsWith('\0'));
    const open = await Promise.all(ids.map((id) => this.stillOpen(id).catch(() => true)));
    ids.forEach((id, i) => open[i] || this.close(key, id));
  }

  add(key: string, id: string, weight = 1): void {
    const ids = this.open.get(key) ?? new Map<string, number>();
    ids.set(id, weight);
    this.open.set(key, ids);
  }

  close(key: string, id: string): void {
    this.open.get(key)?.delete(id);
  }

  used(key: string): number {
    return [...(this.open.get(key)?.values() ?? [])].reduce((a, b) => a + b, 0);
  }
}
