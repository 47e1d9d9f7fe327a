import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { WORKFLOW_BUNDLE_PATH } from './helpers/global-setup';
import { HISTORY_DIR, loadHistory } from './helpers/histories';
import { quietRuntime } from './helpers/temporal';

// Histories saved from real runs (SAVE_HISTORIES=1) must replay on today's workflow code: from the 1.0 baseline on,
// a change that would break running workflows fails here until it is guarded with patched() (see docs/architecture.md,
// "Changing workflow code").
quietRuntime();
const files = fs.readdirSync(HISTORY_DIR).filter((f) => f.endsWith('.json'));

it('has saved histories of every workflow', () => {
  expect(files).toEqual(
    expect.arrayContaining([
      'lock-clears.json',
      'conflict-then-force.json',
      'conflict-then-cancel.json',
      'newer-values-during-apply.json',
      'late-values-new-run.json',
      'continue-as-new-first-run.json',
      'max-wait-force-while-locked-then-cancel.json',
      'batch-1000-rows.json',
      'revert-batch.json',
      'watched-unlock.json',
      'lock-watcher.json',
      // From the guarded-writes patch on: read, guard and write in one activity.
      'guarded-lock-clears.json',
      'guarded-conflict-then-force.json',
      'guarded-newer-values-during-apply.json',
      'guarded-max-wait-force-while-locked-then-cancel.json',
      'guarded-watched-unlock.json',
      // From the handlers-finish-before-new-run patch on: a batch run that continued as new.
      'batch-continued-as-new-first-run.json',
      // From the escalation-ladder patch on: a routed record's ladder, restarted by a new holder.
      'ladder-new-holder.json',
      // From the handed-to-watcher patch on: a record its batch handed to the watcher, told of its unlock, written.
      'handed-to-watcher-unlock.json',
      // From the newest-lock-news patch on: an older tick's word, arriving after a newer one's, dropped.
      'newest-lock-news.json',
      // From the page-window patch on: pages in a sliding window (a batch over runs that continued as new, a batch in
      // one run, a revert, a plan).
      'page-window-batch-continued-as-new-first-run.json',
      'page-window-batch-1000-rows.json',
      'page-window-revert-batch.json',
      'page-window-plan.json',
      // From the current-record patch on: one marker for every patch before it, and only changed search attributes.
      'current-record-handed-unlock.json',
      'current-record-conflict-then-force.json',
      'current-record-ladder-new-holder.json',
      'current-record-continue-as-new-first-run.json',
      'current-record-continue-as-new-last-run.json',
      'current-record-newest-lock-news.json',
      // From the watcher-moves patch on: a lock watcher that a worker's start moved to the control task queue.
      'watcher-moves-to-control-queue.json',
    ]),
  );
});

it.each(files)('replays %s without nondeterminism', async (file) => {
  const history = loadHistory(path.join(HISTORY_DIR, file));
  const workflowId = `replay-${file}`;
  const results = Worker.runReplayHistories({ workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH } }, [
    { workflowId, history },
  ]);
  for await (const result of results) expect(result.error).toBeUndefined();
});
