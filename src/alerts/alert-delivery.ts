import type { Logger } from '../observability/logger';
import type { Alert } from './alert-channel';
import { type ChannelSpec, type SmtpSettings, channelKey, channelLabel } from './channel-spec';
import { UndeliverableAlert, sendTo } from './send-alert';

/** An alert a delivery loop took from the outbox: its attempt number fences the outcome it notes. */
export interface ClaimedAlert {
  id: string;
  key: string;
  spec: ChannelSpec;
  alert: Alert;
  /** This attempt's number, 1 for the first. */
  attempt: number;
  /** Since it was enqueued, by the database's clock. */
  ageMs: number;
}

/** The outbox as the loop uses it (store/alert-outbox.ts; the store sits above this folder). */
export interface AlertQueue {
  /** Due alerts, but none on the channels (keys) or of the kinds this loop is busy with. */
  claimDue(limit: number, leaseMs: number, busy?: { channels: string[]; kinds: string[] }): Promise<ClaimedAlert[]>;
  delivered(claim: ClaimedAlert): Promise<void>;
  retryLater(claim: ClaimedAlert, error: string, delayMs: number): Promise<void>;
  giveUp(claim: ClaimedAlert, error: string): Promise<boolean>;
}

export interface RetryPolicy {
  /** The wait after the first failed attempt, doubling after each next one up to `maxDelayMs`. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** A failing alert is given up at this attempt, or once this long after it was enqueued. */
  maxAttempts: number;
  giveUpAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  firstDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
  maxAttempts: Infinity,
  giveUpAfterMs: 24 * 3_600_000,
};

/** The counter of alerts given up (SyncMetrics, temporal/metrics.ts, has it). */
export interface DeliveryMetrics {
  alertGivenUp(): void;
}

export interface AlertDeliveryOptions {
  outbox: AlertQueue;
  smtp?: SmtpSettings;
  logger: Logger;
  metrics?: DeliveryMetrics;
  /** How long the loop waits before looking again when nothing more was due (default 1 s). */
  pollMs?: number;
  /** Sends in flight at most (default 4): a slow channel holds one of them, never the others. */
  concurrency?: number;
  /** One send's limit (default 30 s): past it the attempt counts as failed. */
  sendTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
}

export interface AlertDelivery {
  /** Stops claiming, and returns once the sends in flight have noted their outcome. */
  stop(): Promise<void>;
}

/**
 * The worker's delivery loop: claims due alerts from the outbox as sending slots free up, sends each once, and notes
 * the outcome (delivered, due again after a backoff, or given up). A database error is logged and the loop looks
 * again at its next poll: it never ends the process.
 */
export function startAlertDelivery(options: AlertDeliveryOptions): AlertDelivery {
  const { outbox, logger, pollMs = 1_000, concurrency = 4, sendTimeoutMs = 30_000 } = options;
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  // A claim outlives its send's limit with room to note the outcome (a pool connection may take up to a minute to
  // come): only a worker gone mid-send lets it lapse.
  const leaseMs = sendTimeoutMs + 2 * 60_000;
  const slots = new SendingSlots(concurrency);
  const outboxState = new OutboxReachability(logger);
  let stopped = false;
  let wake = () => {};

  const deliver = async (claim: ClaimedAlert) => {
    const failure = await withinMs(sendTo(claim.spec, claim.alert, options), sendTimeoutMs).then(
      () => null,
      (err: unknown) => ({ err }),
    );
    try {
      await (failure ? noteFailure(options, retry, claim, failure.err) : outbox.delivered(claim));
    } catch (err) {
      logger.warn('alert outcome not noted: the alert is tried again when its claim lapses', {
        alertKey: claim.key,
        channel: channelLabel(claim.spec),
        error: oneLine(err),
      });
    }
  };

  const run = async () => {
    while (!stopped) {
      // One claim at a time, so that each sees what the sends already started are busy with.
      while (!stopped && slots.free()) {
        const [claim] = await outboxState.claims(() => outbox.claimDue(1, leaseMs, slots.busy()));
        if (!claim) break;
        slots.start(claim.spec, deliver(claim));
      }
      // Every slot busy: more may be due as soon as one frees. Otherwise nothing more was due: wait a poll.
      await (slots.free() ? sleep(pollMs) : slots.oneEnded());
    }
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const running = run();
  return {
    async stop() {
      stopped = true;
      wake();
      await running;
      await slots.allEnded();
    },
  };
}

/**
 * The sends in flight. One send at a time per channel, and one kind of channel holds all slots but one at most (of
 * three or more): a hanging SMTP server holds back neither the webhooks nor the log.
 */
class SendingSlots {
  private readonly sending = new Set<Promise<void>>();
  private readonly inFlight: ChannelSpec[] = [];

  constructor(private readonly concurrency: number) {}

  free(): boolean {
    return this.sending.size < this.concurrency;
  }

  /** What the outbox must not hand this loop now: alerts on busy channels, or of kinds at their share. */
  busy(): { channels: string[]; kinds: string[] } {
    const count = (kind: string) => this.inFlight.filter((c) => c.kind === kind).length;
    const atShare = (kind: string) => count(kind) >= Math.max(2, this.concurrency - 1);
    return {
      channels: this.inFlight.map(channelKey),
      kinds: [...new Set(this.inFlight.map((c) => c.kind))].filter(atShare),
    };
  }

  start(spec: ChannelSpec, delivery: Promise<void>): void {
    this.inFlight.push(spec);
    const send: Promise<void> = delivery.finally(() => {
      this.sending.delete(send);
      this.inFlight.splice(this.inFlight.indexOf(spec), 1);
    });
    this.sending.add(send);
  }

  oneEnded(): Promise<void> {
    return Promise.race(this.sending);
  }

  async allEnded(): Promise<void> {
    await Promise.all(this.sending);
  }
}

/** Claims from the outbox; an outage is logged once, not at every poll, and reads as nothing due. */
class OutboxReachability {
  private down = false;

  constructor(private readonly logger: Logger) {}

  async claims(claim: () => Promise<ClaimedAlert[]>): Promise<ClaimedAlert[]> {
    try {
      const claims = await claim();
      if (this.down) this.logger.info('alert outbox reachable again');
      this.down = false;
      return claims;
    } catch (err) {
      if (!this.down) this.logger.warn('alert outbox unreachable, trying again', { error: oneLine(err) });
      this.down = true;
      return [];
    }
  }
}

/** A failed attempt: due again after a backoff, or given up (logged and counted) at the policy's limit. */
async function noteFailure(
  { outbox, logger, metrics }: AlertDeliveryOptions,
  retry: RetryPolicy,
  claim: ClaimedAlert,
  err: unknown,
): Promise<void> {
  const error = oneLine(err);
  const channel = channelLabel(claim.spec);
  const last =
    err instanceof UndeliverableAlert || claim.attempt >= retry.maxAttempts || claim.ageMs >= retry.giveUpAfterMs;
  if (!last) {
    const delayMs = Math.min(retry.firstDelayMs * 2 ** (claim.attempt - 1), retry.maxDelayMs);
    await outbox.retryLater(claim, error, delayMs);
    logger.warn('alert not delivered yet', { alertKey: claim.key, channel, attempt: claim.attempt, delayMs, error });
  } else if (await outbox.giveUp(claim, error)) {
    const attempts = `${claim.attempt} attempt${claim.attempt === 1 ? '' : 's'}`;
    logger.error(`alert ${claim.key} to ${channel} given up after ${attempts}: ${error}`, {
      alertKey: claim.key,
      channel,
      attempts: claim.attempt,
      error,
    });
    metrics?.alertGivenUp();
  }
}

/** Fails the attempt after `ms`; the send itself may still end later (at least once: it may arrive all the same). */
function withinMs<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** An error as the outbox keeps it and logs show it: its first line, bounded. */
const oneLine = (err: unknown) =>
  (err instanceof Error ? err.message : String(err)).split('\n')[0].trim().slice(0, 300);
