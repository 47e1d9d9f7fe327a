/** What happened to one record's write, in the vocabulary of the whole product (Vault client, batch, record workflow). */
export type WriteStatus = 'updated' | 'unchanged' | 'locked' | 'transient' | 'permanent';

export interface WriteOutcome {
  status: WriteStatus;
  errorType?: string;
  message?: string;
}
