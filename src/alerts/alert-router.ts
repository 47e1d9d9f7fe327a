// alerts/: who is told of what and how: the routing file (teams, their channels and escalation ladders), the channels
// (log, webhook, SMTP), the delivery loop, and the texts of the batch alerts. Imports the layers below it; the store's
// outbox comes in through an interface (AlertQueue, EnqueueAlert).

import type { Alert } from './alert-channel';
import { type ChannelSpec, channelKey } from './channel-spec';
import type { Routing, Team } from './routing';

/** Keeps an alert for delivery on these channels (the store's outbox): once per key and channel, however often asked. */
export type EnqueueAlert = (key: string, channels: ChannelSpec[], alert: Alert) => Promise<void>;

/**
 * Sends each alert to the people it is for: a record's to its team, a batch's to the operators, an escalation to
 * the team's escalation contact as well. Only enqueues: delivery (and its retries) never holds up the caller.
 */
export class AlertRouter {
  constructor(
    readonly routing: Routing,
    private readonly enqueue: EnqueueAlert,
  ) {}

  toOperators(key: string, alert: Alert): Promise<void> {
    return this.enqueue(key, this.team(this.routing.operators).channels, alert);
  }

  /** To the team (the default team where the record has none, or a team the routing file no longer names). */
  toTeam(key: string, team: string | undefined, alert: Alert): Promise<void> {
    return this.enqueue(key, this.team(team).channels, alert);
  }

  /** To the team and its escalation contact. */
  escalate(key: string, team: string | undefined, alert: Alert): Promise<void> {
    const t = this.team(team);
    // An address or hook that is both the team's and its contact's is told once.
    const channels = [...t.channels, ...t.escalation];
    return this.enqueue(
      key,
      channels.filter((c, i) => channels.findIndex((d) => channelKey(d) === channelKey(c)) === i),
      alert,
    );
  }

  /** The team by name, or the default team. */
  team(name: string | undefined): Team {
    return (name && this.routing.teams.get(name)) || this.routing.teams.get(this.routing.defaultTeam)!;
  }
}
