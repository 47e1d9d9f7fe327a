import { z } from 'zod';

/** Zod schemas of the Vault responses we rely on; anything else is a malformed body. */

const VaultError = z.object({ type: z.string(), message: z.string().optional() }).passthrough();
const VaultWarning = z.object({
  warning_type: z.string().optional(),
  type: z.string().optional(),
  message: z.string().optional(),
});
export const ResponseStatus = z.enum(['SUCCESS', 'WARNING', 'FAILURE', 'EXCEPTION']);

export const AuthResponse = z.object({
  responseStatus: ResponseStatus,
  sessionId: z.string().optional(),
  userId: z.number().optional(),
  vaultId: z.number().optional(),
  vaultIds: z.array(z.object({ id: z.number(), name: z.string().optional(), url: z.string().optional() })).optional(),
  errors: z.array(VaultError).optional(),
});

/** Any response: used to spot whole-request FAILURE / EXCEPTION before the specific schema. */
export const Envelope = z
  .object({ responseStatus: ResponseStatus, errors: z.array(VaultError).optional() })
  .passthrough();

export const BulkRowResult = z.object({
  responseStatus: ResponseStatus,
  errors: z.array(VaultError).optional(),
  warnings: z.array(VaultWarning).optional(),
  data: z.object({ id: z.string().optional(), url: z.string().optional() }).passthrough().optional(),
});

export const BulkUpdateResponse = z.object({
  responseStatus: ResponseStatus,
  errors: z.array(VaultError).optional(),
  data: z.array(BulkRowResult).optional(),
});

export const QueryResponse = z.object({
  responseStatus: ResponseStatus,
  errors: z.array(VaultError).optional(),
  responseDetails: z
    .object({
      pagesize: z.number().optional(),
      pageoffset: z.number().optional(),
      size: z.number().optional(),
      total: z.number().optional(),
      next_page: z.string().optional(),
    })
    .optional(),
  data: z.array(z.record(z.unknown())).optional(),
});

export const LockResponse = z.object({
  responseStatus: ResponseStatus,
  errors: z.array(VaultError).optional(),
  data: z
    .object({
      locked: z.boolean(),
      locked_by: z.string().nullable().optional(),
      locked_since: z.string().nullable().optional(),
    })
    .optional(),
});

export type BulkRowResult = z.infer<typeof BulkRowResult>;
