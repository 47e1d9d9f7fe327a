import path from 'node:path';
import fs from 'node:fs';
import type { AppConfig } from '../config';
import {
  collect,
  type DefineCommand,
  EXIT,
  json,
  type JsonOption,
  output,
  required,
  UsageError,
  withStore,
} from './command-line';
import { table } from './batch-output';
import type { Store } from '../store/store';
import {
  anchorsFrom,
  anchorsInReports,
  describeVerify,
  entryLine,
  exportTrail,
  findPublicKeys,
} from './audit-trail-output';
import { writeKeyPair } from '../audit/signing-key';

// The audit command: list a record's or a batch's entries, verify the chain and its signed heads, export a range for
// an auditor, make a signing key pair.

export interface AuditOptions extends JsonOption {
  record?: string;
  batch?: string;
  anchor: string[];
  reports?: string;
  publicKey?: string;
  from?: string;
  to?: string;
  out?: string;
}

export function registerAuditCommand(command: DefineCommand): void {
  command(
    'audit',
    "the audit trail's writes and decisions (--record or --batch); `audit verify` checks its chain and signed heads; `audit export` writes a range for an auditor; `audit keygen` makes a signing key pair",
    async (config, action: string | undefined, o: AuditOptions) =>
      action === 'keygen'
        ? keygenCommand(required(o.out, '--out'), json(o))
        : withStore(config, (store) => auditCommand(config, store, action, o, json(o))),
  )
    .argument('[verify|export|keygen]')
    .option('--record <recordId>', "a record's entries (listing, export)")
    .option('--batch <batchId>', "a batch's entries (listing)")
    .option('--anchor <json|file>', 'verify: a signed head to check too (repeatable)', collect, [])
    .option('--reports <dir>', 'verify: check the signed heads of every report.json under this folder')
    .option('--public-key <file>', 'verify: the public key (default CAPA_AUDIT_PUBLIC_KEY_FILE)')
    .option('--from <date>', 'export: first day or time (inclusive)')
    .option('--to <date>', 'export: last day or time (a date: that whole day)')
    .option('--out <file|dir>', 'export: the CSV file to write; keygen: the folder for the key pair')
    .option('--json', 'print JSON');
}

async function auditCommand(
  config: AppConfig,
  store: Store,
  action: string | undefined,
  o: AuditOptions,
  json: boolean,
): Promise<number> {
  if (action === 'verify') {
    const anchors = [...o.anchor.flatMap(givenAnchor), ...(o.reports ? anchorsInReports(o.reports) : [])];
    if (o.publicKey && !fs.existsSync(o.publicKey)) throw new UsageError(`--public-key: no file ${o.publicKey}`);
    const publicKeys = findPublicKeys(o.publicKey ? [o.publicKey] : config.audit.publicKeyFiles);
    const result = await store.audit.verify({ anchors, publicKeys });
    output(json, result, describeVerify(result));
    return result.problems.length ? EXIT.failed : EXIT.ok;
  }
  if (action === 'export') {
    const range = { from: day(required(o.from, '--from'), 'start'), to: day(required(o.to, '--to'), 'end') };
    const done = await exportTrail(store.audit, { ...range, recordId: o.record }, required(o.out, '--out'));
    output(
      json,
      done,
      `Exported ${done.entries} audit entries and the ${done.anchors} signed heads that cover them:\n  ${done.files.join('\n  ')}`,
    );
    return EXIT.ok;
  }
  if (action) throw new UsageError(`unknown audit action "${action}" (verify, export, keygen, or --record / --batch)`);
  if (!o.record && !o.batch)
    throw new UsageError('audit needs --record <recordId>, --batch <batchId>, verify or export');
  const entries = await store.audit.read({ recordId: o.record, batchId: o.batch });
  output(
    json,
    entries,
    entries.length
      ? table(entries.map(entryLine), ['seq', 'time', 'recordId', 'what', 'who', 'batchId'])
      : 'No audit entries.',
  );
  return EXIT.ok;
}

function givenAnchor(given: string) {
  try {
    return anchorsFrom(given);
  } catch (err) {
    throw new UsageError(`--anchor: ${(err as Error).message}`);
  }
}

/** A date (the start of that day, or the start of the next one for `end`) or a full ISO time, as given. */
function day(given: string, edge: 'start' | 'end'): string {
  const t = new Date(/^\d{4}-\d{2}-\d{2}$/.test(given) ? `${given}T00:00:00Z` : given);
  if (Number.isNaN(t.getTime())) throw new UsageError(`not a date: ${given} (give 2026-12-01 or an ISO time)`);
  if (edge === 'end' && /^\d{4}-\d{2}-\d{2}$/.test(given)) t.setUTCDate(t.getUTCDate() + 1);
  return t.toISOString();
}

function keygenCommand(dir: string, json: boolean): number {
  const files = {
    privateKey: path.join(dir, 'audit-signing-key.pem'),
    publicKey: path.join(dir, 'audit-signing-key.pub.pem'),
  };
  if (!writeKeyPair(files)) throw new UsageError(`${files.privateKey} exists already: nothing written`);
  output(
    json,
    files,
    `Audit signing key pair written:\n  private (CAPA_AUDIT_SIGNING_KEY_FILE, the workers' secret): ${files.privateKey}\n  public (for auditors, CAPA_AUDIT_PUBLIC_KEY_FILE): ${files.publicKey}`,
  );
  return EXIT.ok;
}
