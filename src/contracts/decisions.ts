/** What an operator decided: on a waiting record (force, cancel), on a batch held for approval, or to revert one. */
export type DecisionKind = 'force' | 'cancel' | 'approve' | 'reject' | 'revert';

/**
 * Where a decision came from, as its sender declared it: the account and host the command ran from and the Temporal
 * client identity that sent it (the capa-sync CLI fills them in). A signal (the Web UI's form) carries none of this:
 * `via` says so. Tying them to a person is the deployment's job (Temporal's authorizer and claim mapper).
 */
export interface DecisionOrigin {
  /** `time-out`: nobody decided on a held batch in time, and capa-sync rejected it; `start`: a workflow's start. */
  via: 'update' | 'signal' | 'time-out' | 'start';
  account?: string;
  host?: string;
  client?: string;
}

/** How an origin reads in a report line or the audit listing. */
export function describeOrigin(o: DecisionOrigin): string {
  if (o.via === 'signal') return 'a signal (the Web UI form or another signal sender; account and host not known)';
  if (o.via === 'time-out') return 'capa-sync itself, when nobody decided in time';
  if (!o.account && !o.host) return 'an update whose sender did not say its account or host';
  return `${o.account ?? '?'}@${o.host ?? '?'}${o.client ? ` via ${o.client}` : ''}`;
}

/** Why a decision is refused for who or why it gives (both are required, and audited); undefined where it is not. */
/** An operator's decision as it is kept and audited: who and why, without surrounding blanks. */
export const trimmedDecision = <D extends { operator: string; reason: string }>(d: D): D => ({
  ...d,
  operator: d.operator.trim(),
  reason: d.reason.trim(),
});

export function operatorProblem(d: { operator?: unknown; reason?: unknown } | undefined): string | undefined {
  if (!d || typeof d.operator !== 'string' || !d.operator.trim()) return 'operator is required';
  if (typeof d.reason !== 'string' || !d.reason.trim()) return 'reason is required';
  return undefined;
}
