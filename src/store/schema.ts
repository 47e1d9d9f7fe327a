/**
 * The store's schema, as numbered migrations applied in order and recorded in schema_migrations. A migration is
 * never edited once released: a change is a new one.
 */
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE batches (
    batch_id text PRIMARY KEY,
    -- The batch workflow run that owns the id: a later run under the same id is refused.
    run_id text NOT NULL,
    source text NOT NULL,
    object text NOT NULL,
    mapping jsonb NOT NULL,
    status text NOT NULL CHECK (status IN ('preparing', 'prepared', 'finished')),
    input_rows integer,
    valid_rows integer,
    ignored_columns text[],
    page_size integer,
    -- The row number each page starts at: a page is the live rows from its start up to the next page's.
    page_starts integer[],
    created_at timestamptz NOT NULL DEFAULT now(),
    prepared_at timestamptz,
    finished_at timestamptz
  );

  -- Every input row and what happened to it. Valid rows have values; the outcome is set as the batch decides it.
  -- Loaded by COPY, so kept cheap to insert: no foreign key to batches (a check a row would cost a third of the
  -- load), and the values as json (stored as given, never searched).
  CREATE TABLE batch_rows (
    batch_id text NOT NULL,
    row_no integer NOT NULL,
    record_id text,
    field_values json,
    source_timestamp text,
    outcome text CHECK (outcome IN ('updated', 'unchanged', 'waiting', 'failed', 'rejected', 'superseded', 'hand-off')),
    field text,
    error_type text,
    message text,
    vault_state text,
    workflow_id text,
    -- Page intent: the values read before the bulk update, saved before it is sent (a retried page audits with them).
    values_before jsonb,
    -- A hand-off's baseline: the values the record workflow guards against hand edits.
    baseline jsonb,
    -- What the record workflow did later with a waiting row (applied, cancelled, ...), and when.
    resolution text,
    resolved_at timestamptz,
    PRIMARY KEY (batch_id, row_no)
  );
  -- A record workflow settles its rows when it ends: found by its id among the rows still waiting.
  CREATE INDEX batch_rows_waiting ON batch_rows (workflow_id) WHERE outcome = 'waiting' AND resolution IS NULL;

  -- Record workflows running when the batch was prepared: their records get new values, not a bulk write.
  CREATE TABLE batch_running_records (
    batch_id text NOT NULL REFERENCES batches ON DELETE CASCADE,
    record_id text NOT NULL,
    PRIMARY KEY (batch_id, record_id)
  );

  CREATE TABLE batch_pages (
    batch_id text NOT NULL REFERENCES batches ON DELETE CASCADE,
    page integer NOT NULL,
    applied_at timestamptz,
    handed_off_at timestamptz,
    PRIMARY KEY (batch_id, page)
  );

  -- A file given to \`capa-sync run --source\` on an operator's machine, in chunks, for whichever worker prepares it.
  CREATE TABLE staged_sources (
    staged_id text PRIMARY KEY,
    name text NOT NULL,
    bytes bigint NOT NULL,
    staged_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE TABLE staged_source_chunks (
    staged_id text NOT NULL REFERENCES staged_sources ON DELETE CASCADE,
    seq integer NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (staged_id, seq)
  );

  -- Alerts already sent, by key: a retried activity or a new run does not send the same alert twice.
  CREATE TABLE sent_alerts (
    alert_key text PRIMARY KEY,
    sent_at timestamptz NOT NULL DEFAULT now()
  );

  -- The audit trail: one row per field written, never changed, chained by hash.
  CREATE TABLE audit_entries (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time timestamptz NOT NULL,
    object text NOT NULL,
    record_id text NOT NULL,
    field text NOT NULL,
    old_value jsonb,
    new_value jsonb,
    batch_id text NOT NULL,
    actor text NOT NULL,
    reason text,
    workflow_id text,
    write_id text NOT NULL,
    source_timestamp text,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    UNIQUE (write_id, record_id, field)
  );
  CREATE INDEX audit_entries_record ON audit_entries (record_id, field, seq);
  CREATE INDEX audit_entries_batch ON audit_entries (batch_id, seq);

  CREATE FUNCTION audit_entries_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % refused', TG_OP;
  END $$;
  CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION audit_entries_are_append_only();
  CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_are_append_only();
  `,
  `
  -- Decisions (force, cancel, a batch's approval) are audit entries too, kept as long as the trail: no field, the
  -- values they concerned in new_value, and where the command came from.
  ALTER TABLE audit_entries
    ADD COLUMN kind text NOT NULL DEFAULT 'write' CHECK (kind IN ('write', 'decision')),
    ADD COLUMN decision text,
    ADD COLUMN outcome text,
    ADD COLUMN origin jsonb,
    ALTER COLUMN record_id DROP NOT NULL,
    ALTER COLUMN field DROP NOT NULL;
  CREATE UNIQUE INDEX audit_entries_decision_once ON audit_entries (write_id) WHERE kind = 'decision';

  -- The chain's head signed when the batch finished (see audit_anchors), for its report.
  ALTER TABLE batches ADD COLUMN audit_anchor jsonb;

  -- The chain's head, signed (Ed25519) at each batch's end and each decision: a copy here, the ones that count in
  -- Temporal, the reports and the alerts, where the database's owner cannot rewrite them.
  CREATE TABLE audit_anchors (
    signature text PRIMARY KEY,
    seq bigint NOT NULL,
    hash text NOT NULL,
    signed_at timestamptz NOT NULL,
    key_id text NOT NULL,
    occasion text NOT NULL
  );
  `,
  `
  -- A plan is a batch that stops after its reads: what each row would do, and nothing written.
  ALTER TABLE batches ADD COLUMN kind text NOT NULL DEFAULT 'batch' CHECK (kind IN ('batch', 'plan'));
  ALTER TABLE batch_rows
    ADD COLUMN planned text CHECK (planned IN ('update', 'unchanged', 'wait', 'already-waiting', 'not-found')),
    ADD COLUMN planned_before jsonb,
    ADD COLUMN planned_state text;
  `,
  `
  -- A revert (capa-sync revert) is a batch that restores what another wrote: each row says what its record must
  -- still hold, or it is left as it is.
  ALTER TABLE batches ADD COLUMN reverts text;
  ALTER TABLE batch_rows ADD COLUMN expected_values json;
  -- A revert reads what one batch wrote, record by record.
  CREATE INDEX audit_entries_batch_record ON audit_entries (batch_id, record_id) WHERE kind = 'write';
  ALTER TABLE batch_rows DROP CONSTRAINT batch_rows_planned_check,
    ADD CONSTRAINT batch_rows_planned_check
      CHECK (planned IN ('update', 'unchanged', 'wait', 'already-waiting', 'not-found', 'changed-since'));
  `,
  `
  -- Each object's lock watcher's last tick: while it is recent, waiting records leave the reading to the watcher.
  CREATE TABLE lock_watchers (
    object text PRIMARY KEY,
    ticked_at timestamptz NOT NULL,
    tick_seconds integer NOT NULL,
    waiting integer NOT NULL,
    told integer NOT NULL
  );
  `,
  `
  -- Each waiting record as its object's lock watcher last read it: when (a record whose last read is older reads
  -- Vault itself), the state it saw, and the state it last told the record (it tells only a change).
  CREATE TABLE watched_records (
    object text NOT NULL,
    record_id text NOT NULL,
    read_at timestamptz NOT NULL,
    vault_state text,
    told_state text,
    PRIMARY KEY (object, record_id)
  );
  -- The watcher lists an object's waiting records from their batch rows, a page of ids at a time.
  CREATE INDEX batch_rows_waiting_records ON batch_rows (record_id) WHERE outcome = 'waiting' AND resolution IS NULL;

  -- A record workflow's write, saved with the values Vault held just before it and before it is sent: an attempt
  -- that died after Vault took the write leaves it here, and the retry audits it with these values.
  CREATE TABLE write_intents (
    write_id text PRIMARY KEY,
    attempt integer NOT NULL,
    record_id text NOT NULL,
    field_values jsonb NOT NULL,
    values_before jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  `,
  `
  -- How each entry's hash was computed: 1, the entries before RFC 8785 (keys sorted by hand, content as an array);
  -- 2, sha256 of the previous hash and the entry's content as RFC 8785 canonical JSON (see store/entry-hash.ts).
  ALTER TABLE audit_entries ADD COLUMN hash_version smallint NOT NULL DEFAULT 1 CHECK (hash_version IN (1, 2));
  `,
  `
  -- The team responsible for each row's record (the routing file's rule its CAPA fields matched when the batch read
  -- it): record alerts go to it, and each team's digest counts its own rows.
  ALTER TABLE batch_rows ADD COLUMN team text;
  `,
  `
  -- Alerts to deliver, one row per alert key and channel (channelKey): activities add them and never wait on a
  -- channel; each worker's delivery loop sends the due ones, retrying with backoff until delivered or given up.
  -- sent_alerts (the first migration) is no longer written: a key once here is not added again, on any worker.
  CREATE TABLE alert_outbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_key text NOT NULL,
    channel text NOT NULL,
    -- The channel's spec and the alert as given, never searched (json takes any text an alert line may carry).
    spec json NOT NULL,
    alert json NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'given-up')),
    -- Attempts started: a claim adds one, and the outcome of an attempt counts only while no later one started.
    attempts integer NOT NULL DEFAULT 0,
    -- When a loop may take it: at once, after a failed attempt's backoff, or after the lease of the attempt sending it
    -- (a worker that died mid-send leaves it to another then).
    due_at timestamptz NOT NULL DEFAULT now(),
    -- The last failed attempt's reason, one line.
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    settled_at timestamptz,
    UNIQUE (alert_key, channel)
  );
  CREATE INDEX alert_outbox_due ON alert_outbox (due_at) WHERE status = 'pending';
  `,
  `
  -- A settled write's intent stays a while, marked: it still fences an older attempt (a process cut off from
  -- Temporal) that tries to claim the write after a later attempt settled it.
  ALTER TABLE write_intents ADD COLUMN settled_at timestamptz;
  CREATE INDEX write_intents_settled ON write_intents (settled_at) WHERE settled_at IS NOT NULL;
  `,
  `
  -- Each retried guarded write's latest attempt, noted before that attempt reads Vault: an older attempt (a process
  -- cut off from Temporal, or frozen past its timeout) may then no longer write on its own, older read, even where
  -- the later attempt wrote nothing (a reviewer's edit stopped it).
  CREATE TABLE write_attempts (
    write_id text PRIMARY KEY,
    attempt integer NOT NULL,
    entered_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX write_attempts_entered ON write_attempts (entered_at);
  `,
  `
  -- The approval gate's figures of each planned page (contracts/plan-messages.ts GateTally), kept with the page's
  -- plan: the gate adds a batch's pages' up instead of reading every row again. Never searched.
  ALTER TABLE batch_pages ADD COLUMN gate_tally json;
  `,
  `
  -- When the watcher last told a record of an unlock (NULL: its last word was something else): a tick counts those
  -- told lately that still wait as in flight, and tells more unlocks only as they settle. When a write refused as
  -- locked took back what the watcher told: a note of that tell arriving later does not put it back.
  ALTER TABLE watched_records ADD COLUMN unlock_told_at timestamptz, ADD COLUMN untold_at timestamptz;
  CREATE INDEX watched_records_unlock_told ON watched_records (object, unlock_told_at) WHERE unlock_told_at IS NOT NULL;
  `,
  `
  -- A record workflow that settles before its batch saved its row as waiting settles the row it finds being handed.
  CREATE INDEX batch_rows_handing ON batch_rows (record_id) WHERE outcome = 'hand-off';
  `,
];

/**
 * What the runtime role (CAPA_DATABASE_URL's login: workers and the CLI) may do, granted by the owner after each
 * migration: read and add everywhere, change only the working tables' rows, never the audit trail's. It owns
 * nothing, so it cannot ALTER a table, switch a trigger off or TRUNCATE, and it may DELETE only from the working
 * tables that forget (watched_records, write_intents, write_attempts), never from the trail.
 */
export const runtimeGrants = (role: string): string[] => {
  const r = `"${role.replace(/"/g, '""')}"`;
  return [
    `GRANT USAGE ON SCHEMA public TO ${r}`,
    `GRANT SELECT ON schema_migrations TO ${r}`,
    `GRANT SELECT, INSERT, UPDATE ON batches, batch_rows, batch_pages, lock_watchers, alert_outbox TO ${r}`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON watched_records, write_intents, write_attempts TO ${r}`,
    `GRANT SELECT, INSERT ON batch_running_records, staged_sources, staged_source_chunks,
       audit_entries, audit_anchors TO ${r}`,
  ];
};
