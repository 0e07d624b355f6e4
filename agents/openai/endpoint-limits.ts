import type { AnvilConfig } from '../../config';
import { endpointMatches } from '../../domain/policy-spec';

interface Gate {
  active: number;
  waiting: (() => void)[];
  concurrency: number;
  /** minimum gap between request starts, ms (0 = none) */
  spacingMs: number;
  nextStart: number;
}

/**
 * Per-endpoint limits on one llm worker: at most `concurrency` requests in flight to one base URL,
 * and starts spaced to `requestsPerMinute`, from the first `llm.endpoints` entry the URL matches
 * (else `llm.endpointConcurrency`). The worker's own slot count caps all endpoints together.
 */
export class EndpointLimits {
  private readonly gates = new Map<string, Gate>();

  constructor(private readonly llm: Pick<AnvilConfig['llm'], 'endpoints' | 'endpointConcurrency'>) {}

  private gateFor(baseUrl: string): Gate {
    let gate = this.gates.get(baseUrl);
    if (!gate) {
      const entry = this.llm.endpoints
        .map((e) => (typeof e === 'string' ? { url: e } : e))
        .find((e) => endpointMatches(e.url, baseUrl)) as
        { url: string; concurrency?: number; requestsPerMinute?: number } | undefined;
      gate = {
        active: 0,
        waiting: [],
        concurrency: entry?.concurrency ?? this.llm.endpointConcurrency,
        spacingMs: entry?.requestsPerMinute ? 60_000 / entry.requestsPerMinute : 0,
        nextStart: 0,
      };
      this.gates.set(baseUrl, gate);
    }
    return gate;
  }

  /** Runs `request` once the endpoint has a free slot (and its rate allows a start). */
  async run<T>(baseUrl: string, request: () => Promise<T>): Promise<T> {
    const gate = this.gateFor(baseUrl);
    while (gate.active >= gate.concurrency) await new Promise<void>((r) => gate.waiting.push(r));
    gate.active += 1;
    try {
      // Claim a start only once the gap has passed (checked and claimed with no await between): a
      // late timer never lets two starts through together.
      while (Date.now() < gate.nextStart) await new Promise((r) => setTimeout(r, gate.nextStart - Date.now()));
      gate.nextStart = Date.now() + gate.spacingMs;
      return await request();
    } finally {
      gate.active -= 1;
      gate.waiting.shift()?.();
    }
  }

  /** Requests in flight to `baseUrl` now (tests, metrics). */
  inFlight(baseUrl: string): number {
    return this.gates.get(baseUrl)?.active ?? 0;
  }
}
