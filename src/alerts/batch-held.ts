import type { PlanSummary } from '../contracts/plan-messages';
import type { Alert } from './alert-channel';

/** The gate held a batch: why, what its plan says, where its plan's page is, and the commands that decide. */
export function heldAlert(plan: PlanSummary, findings: string[]): Alert {
  const id = plan.planId;
  return {
    title: `capa-sync batch ${id} is waiting for approval: nothing is written until someone decides`,
    lines: [
      ...findings.map((f) => `Unusual: ${f}`),
      `The plan: ${Object.entries(plan.counts)
        .map(([action, n]) => `${n} ${action}`)
        .join(', ')} (of ${plan.inputRows} rows)`,
      `Plan page: ${plan.reports.html} on the worker that checked it, or on your machine: capa-sync report ${id} --plan`,
      `Approve: capa-sync approve ${id} --operator <you> --reason <why>`,
      `Reject:  capa-sync reject ${id} --operator <you> --reason <why>`,
    ],
    fields: { kind: 'batch-held', batchId: id, findings, counts: plan.counts },
  };
}
