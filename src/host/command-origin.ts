// host/: facts about the machine a command runs on: who and where ran it (for the audit trail), a port held while a
// process starts. Imports the layers below it (contracts, observability).

import os from 'node:os';

/**
 * The account and host this process runs as: what a decision is attributed to beside the operator it declares.
 * (A container may run as a user id with no name.)
 */
export function commandOrigin(): { account: string; host: string } {
  let account: string;
  try {
    account = os.userInfo().username;
  } catch {
    account = `uid ${process.getuid?.() ?? '?'}`;
  }
  return { account, host: os.hostname() };
}
