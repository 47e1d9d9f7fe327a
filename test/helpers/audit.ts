import { findPublicKeys } from '../../src/cli/audit-trail-output';
import type { AppConfig } from '../../src/config';
import type { Store } from '../../src/store/store';

/** `audit verify` as a test's workers left the trail: the chain and every signed head, with their public key. */
export const verifyTrail = (store: Store, config: AppConfig) =>
  store.audit.verify({ publicKeys: findPublicKeys(config.audit.publicKeyFiles) });
