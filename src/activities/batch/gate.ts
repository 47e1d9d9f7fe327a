// The approval gate: a batch's pages planned (what each row would do; nothing written), the gate checked on the
// plan, an approver's decision audited, a rejected batch failed unwritten; and a plan's report (finishPlan).
import path from 'node:path';
import { heldAlert } from '../../alerts/batch-held';
import { GateFigures, gateFindings } from '../../change-control/approval-gate';
import { planPageRows } from '../../change-control/plan-decisions';
import { writePlanReport } from '../../change-control/plan-report';
import type { BatchActivities } from '../../contracts/batch-activities';
import { picklistFields } from '../../sources/mapping';
import { asActivityFailure } from '../activity-failures';
import { currentWriteId } from '../activity-ids';
import { appendBatchDecision } from './decisions';
import { type BatchActivityDeps, lockedIn, readPageStates } from './deps';

type GateActivities = Pick<
  BatchActivities,
  'planPage' | 'checkGate' | 'recordBatchDecision' | 'rejectBatch' | 'finishPlan'
>;

export function gateActivities(deps: BatchActivityDeps): GateActivities {
  const gateFigures = () => new GateFigures(picklistFields(deps.mapping));
  return {
    async planPage({ batchId, page }) {
      return asActivityFailure(async () => {
        const { rows } = await deps.store.batches.page(batchId, page);
        const { states } = await readPageStates(deps, rows);
        const planned = planPageRows(rows, states, lockedIn(deps));
        const figures = gateFigures();
        planned.forEach((p, i) =>
          figures.add({ row: p.row, action: p.planned, before: p.before, values: rows[i].values }),
        );
        await deps.store.batches.savePlan(batchId, page, planned, figures.tally());
      });
    },

    async checkGate({ batchId }) {
      return asActivityFailure(async () => {
        const figures = gateFigures();
        const tallies = await deps.store.batches.gateTallies(batchId);
        if (tallies.every((t) => t !== null)) for (const t of tallies) figures.merge(t);
        // A page planned by an earlier release kept no figures: the gate reads the plan's rows instead.
        else for await (const r of deps.store.batches.planResults(batchId)) figures.add(r);
        const objectRecords =
          deps.gate.maxChangedPercentOfObject < 100 ? await deps.vault.countRecords(deps.object) : undefined;
        const findings = gateFindings(figures, deps.gate, objectRecords);
        if (findings.length) {
          const batch = (await deps.store.batches.batch(batchId))!;
          const plan = await writePlanReport(deps.store.batches, batch, path.join(deps.reportsDir, batchId));
          deps.logger.warn('batch held for approval', { batchId, findings });
          await deps.alerts.toOperators(`batch-held/${batchId}`, heldAlert(plan, findings));
        }
        return { findings, timeoutSeconds: deps.approvalTimeoutSeconds };
      });
    },

    async recordBatchDecision(d) {
      const { batchId, operator: actor, reason, decision, outcome, origin } = d;
      await appendBatchDecision(deps, { batchId, actor, reason, decision, outcome, origin }, currentWriteId());
      return deps.store.audit.signHead(deps.signer, `${d.decision} of batch ${d.batchId} by ${d.operator}`);
    },

    async rejectBatch({ batchId, reason }) {
      await deps.store.batches.failUnwritten(batchId, 'BATCH_REJECTED', reason);
      await deps.alerts.toOperators(`batch-rejected/${batchId}`, {
        title: `capa-sync batch ${batchId} rejected: nothing written`,
        lines: [reason],
        fields: { kind: 'batch-rejected', batchId },
      });
      return (await deps.store.batches.counts(batchId)).counts;
    },

    async finishPlan({ batchId }) {
      const plan = (await deps.store.batches.batch(batchId))!;
      return writePlanReport(deps.store.batches, plan, path.join(deps.reportsDir, batchId));
    },
  };
}
