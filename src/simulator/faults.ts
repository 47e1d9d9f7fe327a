import type { FieldValues } from '../contracts/field-values';

/** Faults the simulator can inject, by probability per call (or per record) or as a scripted queue. */
export interface FaultConfig {
  /** Probability of answering HTTP 500 or 503. */
  serverErrorRate: number;
  /** Probability of never answering in time (the response is held for hangMs). */
  hangRate: number;
  hangMs: number;
  /** Probability, per bulk update, that Vault applies the write but its answer is held for hangMs (lost). */
  lostAnswerRate: number;
  /** Probability of a latency spike of spikeMs on a call (answered normally, just late). */
  spikeRate: number;
  spikeMs: number;
  /** Probability of a body that is not JSON. */
  malformedRate: number;
  /** Probability of a gateway's 429 with Retry-After. */
  tooManyRequestsRate: number;
  retryAfterSeconds: number;
  /** Probability of a top-level EXCEPTION response. */
  exceptionRate: number;
  /** Probability, per updated record, of a RACE_CONDITION failure. */
  raceConditionRate: number;
  /** Sessions expire after this many calls (0: never). */
  sessionExpiryEveryCalls: number;
  /** Calls allowed per burst window before Vault starts delaying responses. */
  burstLimit: number;
  burstWindowMs: number;
  burstDelayMs: number;
  /** Added to every call. */
  latencyMs: number;
  /** Faults for the next calls, in order, before any random ones. */
  next: FaultKind[];
  /** Records whose lock endpoint (customer dialect) answers HTTP 500, every time. */
  failingLocks: string[];
  /** Records whose lock endpoint answers HTTP 404, as for a record deleted between a query and its lock read. */
  missingLocks: string[];
  /** A reviewer's edit that lands as a bulk update naming the record arrives, just before it (once each). */
  editsBeforeUpdate: Record<string, FieldValues>;
  /**
   * A reviewer's edit that lands while Vault refuses a bulk update naming the record with a 429 (once each): the
   * update is not applied, and the record has changed by the time its Retry-After is over.
   */
  editsWhileRateLimited: Record<string, FieldValues>;
}

export type FaultKind =
  'http500' | 'http503' | 'hang' | 'lost-answer' | 'malformed' | 'http429' | 'exception' | 'expire-session';

export const NO_FAULTS: FaultConfig = {
  serverErrorRate: 0,
  hangRate: 0,
  hangMs: 30_000,
  lostAnswerRate: 0,
  spikeRate: 0,
  spikeMs: 3_000,
  malformedRate: 0,
  tooManyRequestsRate: 0,
  retryAfterSeconds: 1,
  exceptionRate: 0,
  raceConditionRate: 0,
  sessionExpiryEveryCalls: 0,
  burstLimit: 2000,
  burstWindowMs: 5 * 60_000,
  burstDelayMs: 500,
  latencyMs: 0,
  next: [],
  failingLocks: [],
  missingLocks: [],
  editsBeforeUpdate: {},
  editsWhileRateLimited: {},
};

/** A small seeded PRNG (mulberry32) so that fault runs can be repeated exactly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Picks the fault (if any) for one call: the scripted queue first, then the configured probabilities. A lost answer
 * needs a write to lose.
 */
export function pickFault(config: FaultConfig, random: () => number, isWrite: boolean): FaultKind | undefined {
  // A scripted lost answer waits in the queue for the next write.
  const scripted = config.next[0] === 'lost-answer' && !isWrite ? undefined : config.next.shift();
  if (scripted) return scripted;
  const roll = (rate: number) => rate > 0 && random() < rate;
  if (roll(config.serverErrorRate)) return random() < 0.5 ? 'http500' : 'http503';
  if (roll(config.hangRate)) return 'hang';
  if (isWrite && roll(config.lostAnswerRate)) return 'lost-answer';
  if (roll(config.malformedRate)) return 'malformed';
  if (roll(config.tooManyRequestsRate)) return 'http429';
  if (roll(config.exceptionRate)) return 'exception';
  return undefined;
}
