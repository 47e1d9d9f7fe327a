import fs from 'node:fs';
import { type AppConfig, ConfigError } from '.';
import type { Logger } from '../observability/logger';
import { AuditSigner, readPrivateKey, writeKeyPair } from '../audit/signing-key';

/**
 * The workers' signer, from CAPA_AUDIT_SIGNING_KEY_FILE; the embedded default makes its key pair under
 * CAPA_DATA_DIR on first use, and says so (workers on several hosts need one key given to all of them).
 */
export function loadSigner(audit: AppConfig['audit'], logger: Logger): AuditSigner {
  const file = audit.signingKeyFile;
  if (audit.makeMissingKey && !fs.existsSync(file) && writeKeyPair(audit.makeMissingKey))
    logger.warn('made a new audit signing key pair: give auditors the public key, keep the private one secret', {
      privateKey: audit.makeMissingKey.privateKey,
      publicKey: audit.makeMissingKey.publicKey,
    });
  try {
    const key = readPrivateKey(file);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`a ${key.asymmetricKeyType} key, not Ed25519`);
    return new AuditSigner(key);
  } catch (err) {
    throw new ConfigError(
      `CAPA_AUDIT_SIGNING_KEY_FILE: cannot read an Ed25519 private key from ${file} (${(err as Error).message})`,
    );
  }
}
