// What the Temporal Web UI shows of each workflow beside its id: a one-line summary given at start and, for a record,
// current details that the workflow keeps true as it goes (Temporal markdown). Pure text from the workflows' own
// state, shared by the workflows and the code that starts them.
import type { FieldValues } from './field-values';
import type { RecordStatus } from './record-messages';

/** Markdown's emphasis and table characters, escaped: Vault names are full of `__`. */
const plain = (s: string) => s.replace(/[\\*_|~[\]]/g, (c) => `\\${c}`);
/** A value as code: shown exactly as it is. */
const code = (v: unknown) => `\`${JSON.stringify(v ?? null)}\``;
const describeValues = (values: FieldValues) =>
  Object.entries(values)
    .map(([field, value]) => `\`${field}\` = ${code(value)}`)
    .join(', ');

/** A record workflow's summary: the record, the batch that handed it over and the values it is to write. */
export const recordSummary = (recordId: string, batchId: string, desired: FieldValues) =>
  `CAPA ${plain(recordId)} · batch ${plain(batchId)} · writes ${describeValues(desired)}`;

/** A batch workflow's summary. */
export const batchSummary = (batchId: string, source: string) =>
  `capa-sync batch ${plain(batchId)} from ${plain(source)}`;
export const planSummary = (planId: string, source: string) =>
  `capa-sync plan ${plain(planId)} of ${plain(source)}: what its batch would do (writes nothing)`;

/** A record workflow's current details: its phase, Vault's state, the next check and, waiting for a decision, why. */
export function recordDetails(s: RecordStatus): string {
  const vault = s.vaultState
    ? `Vault state \`${s.vaultState}\`${s.lockedBy ? `, locked by ${plain(s.lockedBy)}` : ''}`
    : 'Vault not read yet';
  const lines = [`**${s.phase}** · ${vault}`];
  const last = s.lastCheck ? `, last ${s.lastCheck}` : '';
  if (s.nextCheck && s.watched)
    lines.push(`Read by the lock watcher on its ticks; own check ${s.nextCheck} (${s.attempts} reads so far${last})`);
  else if (s.nextCheck) lines.push(`Next check ${s.nextCheck} (${s.attempts} so far${last})`);
  lines.push(`Batch ${plain(s.batchId)} writes ${describeValues(s.desired)}`);
  if (s.team) {
    const held = s.lockedSince ? `; locked since ${s.lockedSince}` : '';
    const next = s.nextEscalation
      ? `; next step: ${s.nextEscalation.step} at ${s.nextEscalation.at}`
      : s.lockedSince
        ? '; every step of its ladder sent'
        : '';
    lines.push(`Team ${plain(s.team)}${held}${next}`);
  }
  if (s.phase === 'needs-decision' && s.needsDecision) {
    const { reason, fields, now = {} } = s.needsDecision;
    if (reason === 'conflict') {
      lines.push(
        'Changed by hand during the lock:',
        '',
        '| field | baseline | now | desired |',
        '| --- | --- | --- | --- |',
      );
      for (const f of fields)
        lines.push(`| \`${f}\` | ${code(s.baseline[f])} | ${code(now[f])} | ${code(s.desired[f])} |`);
      lines.push('');
    } else lines.push(`Still locked after the maximum wait (waiting since ${s.waitingSince}).`);
    const decide = (kind: string) => `\`capa-sync ${kind} ${s.recordId} --operator NAME --reason TEXT\``;
    lines.push(`Decide: ${decide('force')} writes the batch's values; ${decide('cancel')} keeps Vault's.`);
  }
  return lines.join('\n');
}
