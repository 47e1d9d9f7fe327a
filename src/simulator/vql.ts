/** The subset of VQL the simulator answers; anything else is INCORRECT_QUERY_SYNTAX_ERROR, as in Vault. */
export type VqlFilter =
  { kind: 'contains'; field: string; values: string[] } | { kind: 'equals'; field: string; value: string };

export interface VqlQuery {
  fields: string[];
  object: string;
  where?: VqlFilter;
  /** Rows per page the query asked for (PAGESIZE). */
  pageSize?: number;
}

export class VqlSyntaxError extends Error {}

const NAME = '[a-z][a-z0-9_]*';
const SELECT = new RegExp(
  `^\\s*SELECT\\s+(.+?)\\s+FROM\\s+(${NAME})(?:\\s+WHERE\\s+(.+?))?(?:\\s+PAGESIZE\\s+([1-9]\\d*))?\\s*$`,
  'is',
);
const CONTAINS = new RegExp(`^(${NAME})\\s+CONTAINS\\s*\\((.*)\\)$`, 'is');
const EQUALS = new RegExp(`^(${NAME})\\s*=\\s*'((?:[^'\\\\]|\\\\.)*)'$`, 's');
const QUOTED_LIST = /^\s*'((?:[^'\\]|\\.)*)'\s*(?:,|$)/s;

export function parseVql(q: string): VqlQuery {
  const m = SELECT.exec(q);
  if (!m) throw new VqlSyntaxError('expected SELECT <fields> FROM <object> [WHERE ...] [PAGESIZE n]');
  const fields = m[1].split(',').map((f) => f.trim());
  if (fields.some((f) => !new RegExp(`^${NAME}$`).test(f))) throw new VqlSyntaxError(`invalid field list: ${m[1]}`);
  return {
    fields,
    object: m[2],
    where: m[3] === undefined ? undefined : parseWhere(m[3]),
    pageSize: m[4] === undefined ? undefined : Number(m[4]),
  };
}

function parseWhere(where: string): VqlFilter {
  const contains = CONTAINS.exec(where);
  if (contains) {
    const values: string[] = [];
    let rest = contains[2];
    while (rest.trim().length) {
      const item = QUOTED_LIST.exec(rest);
      if (!item) throw new VqlSyntaxError(`invalid CONTAINS list near: ${rest.slice(0, 40)}`);
      values.push(unescape(item[1]));
      rest = rest.slice(item[0].length);
    }
    return { kind: 'contains', field: contains[1], values };
  }
  const equals = EQUALS.exec(where);
  if (equals) return { kind: 'equals', field: equals[1], value: unescape(equals[2]) };
  throw new VqlSyntaxError(`unsupported WHERE clause: ${where.slice(0, 80)}`);
}

const unescape = (s: string) => s.replace(/\\(.)/g, '$1');
