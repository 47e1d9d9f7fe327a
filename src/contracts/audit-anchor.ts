/**
 * The audit chain's head (its last entry's sequence number and hash), signed with the workers' Ed25519 key: kept
 * where the database's owner cannot rewrite it (the batch workflow's result in Temporal, report.json, the digest
 * alert, a decision's workflow history), it shows later whether the trail up to it is still the one signed.
 */
export interface AuditAnchor {
  seq: number;
  hash: string;
  signedAt: string;
  /** The first 16 hex digits of the public key's SHA-256: which key to check it with. */
  keyId: string;
  signature: string;
}
