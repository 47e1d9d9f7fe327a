/**
 * The Vault simulator's documented login: the configuration's default VAULT_USERNAME and VAULT_PASSWORD, so that the
 * demo, the tests and a laptop run with no setting at all.
 */
export const DEFAULT_USERNAME = 'sync.user@example.com';
export const DEFAULT_PASSWORD = 'simulator';
