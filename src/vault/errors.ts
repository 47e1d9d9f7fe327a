/**
 * Errors raised by the Vault client. Messages name the call and Vault's error type, never a session id,
 * password or request header, so they are safe to log and to carry into workflow histories.
 */
export class VaultError extends Error {
  constructor(
    readonly kind: 'transient' | 'permanent' | 'auth' | 'invalid-input',
    message: string,
    readonly errorType?: string,
  ) {
    super(message);
    this.name = 'VaultError';
  }
}
