import type { Client } from '@temporalio/client';
import { ALL_SEARCH_ATTRIBUTES } from '../contracts/search-attributes';

/**
 * capa-sync's search attributes that the namespace does not have. A worker refuses to start without them: Temporal
 * refuses every hand-off that sets one, and fails every workflow task that upserts one.
 */
export async function missingSearchAttributes(client: Client, namespace: string): Promise<string[]> {
  const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace });
  return ALL_SEARCH_ATTRIBUTES.map((k) => k.name).filter((name) => !(name in (customAttributes ?? {})));
}
