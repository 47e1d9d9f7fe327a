import { z } from 'zod';
import type { LadderStep } from '../contracts/record-messages';
import { QUERYABLE_NAME } from '../contracts/visibility';
import type { ChannelSpec } from './channel-spec';

// Who is told: the routing file (CAPA_ROUTING_FILE, YAML or JSON) maps each record to the team responsible for it,
// by the values of CAPA fields the batch reads with the record anyway, and each team to its channels and its
// escalation ladder. Without a file, every alert goes to one team, "operators", on ALERT_CHANNEL.

export interface Team {
  name: string;
  channels: ChannelSpec[];
  /** The escalation contact's channels (an escalate step goes there too). */
  escalation: ChannelSpec[];
  ladder: LadderStep[];
}

export interface Routing {
  teams: Map<string, Team>;
  /** Rules in order: the first whose fields all match names the record's team. */
  rules: { team: string; when: Record<string, string[]> }[];
  /** The team of a record that no rule matches (or that was never read). */
  defaultTeam: string;
  /** The team that gets every batch's whole digest and the batch-level alerts. */
  operators: string;
  /** The CAPA fields the rules read: the batch reads them in the same query as the mapped fields. */
  fields: string[];
}

const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;
const DURATION = /^(\d+)\s*(d|h|m|s)$/;
const UNIT_SECONDS = { d: 86_400, h: 3_600, m: 60, s: 1 } as const;

/** A field's value as a rule compares it: as text (YAML reads 101 as a number). */
const text = z.union([z.string(), z.number(), z.boolean()]).transform(String);
const oneOrMany = z.union([text, z.array(text).min(1)]).transform((v) => ([] as string[]).concat(v));

const CHANNELS: Record<string, z.ZodType<ChannelSpec, z.ZodTypeDef, unknown>> = {
  log: z.literal('log').transform((): ChannelSpec => ({ kind: 'log' })),
  email: z
    .object({ email: oneOrMany })
    .strict()
    .refine(({ email }) => email.every((a) => EMAIL.test(a)), { message: 'not an email address' })
    .transform(({ email }): ChannelSpec => ({ kind: 'email', to: email })),
  webhook: z
    .object({
      webhook: z
        .string()
        .regex(/^https?:\/\/[^\s]+$/, 'not an http(s) URL')
        .pipe(z.string().url('not an http(s) URL')),
    })
    .strict()
    .transform(({ webhook }): ChannelSpec => ({ kind: 'webhook', url: webhook })),
};

/** A channel, told apart by its shape first, so that a problem is named for the kind of channel it is. */
const Channel = z.unknown().transform((value, ctx) => {
  const kind =
    value === 'log' ? 'log' : ['email', 'webhook'].find((k) => typeof value === 'object' && value && k in value);
  const parsed = kind ? CHANNELS[kind].safeParse(value) : undefined;
  if (parsed?.success) return parsed.data;
  for (const issue of parsed?.error.issues ?? [])
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: issue.message, path: issue.path });
  if (!parsed)
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'a channel: log, { email: ... } or { webhook: URL }' });
  return z.NEVER;
});

const Duration = z.unknown().transform((value, ctx) => {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  const m = typeof value === 'string' ? DURATION.exec(value) : null;
  if (m && Number(m[1]) > 0) return Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS];
  ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'a duration like 3d, 12h, 30m or 45s (or whole seconds)' });
  return z.NEVER;
});

const FieldName = z.string().regex(/^[a-z][a-z0-9_]*__[cv]$/, 'a Vault field name like site__c');

const RoutingFile = z
  .object({
    operators: z.string().min(1),
    default: z.string().min(1),
    teams: z
      .array(
        z
          .object({
            name: z.string().regex(QUERYABLE_NAME, 'a name of letters, digits, spaces and . @ + - _ only'),
            channels: z.array(Channel).min(1),
            escalation: z.array(Channel).default([]),
            ladder: z.array(z.object({ after: Duration, step: z.enum(['remind', 'escalate']) }).strict()).default([]),
          })
          .strict(),
      )
      .min(1),
    rules: z
      .array(
        z
          .object({
            team: z.string().min(1),
            when: z.record(FieldName, oneOrMany),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

/** A routing file's content, checked: its shape, then that every team it names exists once. One line per problem. */
export function parseRouting(value: unknown): Routing {
  const parsed = RoutingFile.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${entryName(value, issue.path)}: ${issue.message}`);
  }
  const file = parsed.data;
  const teams = new Map<string, Team>();
  file.teams.forEach((t, i) => {
    if (teams.has(t.name)) throw new Error(`teams[${i}] (${t.name}): a second team of that name`);
    const ladder = t.ladder.map(({ after, step }) => ({ afterSeconds: after, step }));
    if (ladder.some((s, j) => j > 0 && s.afterSeconds <= ladder[j - 1].afterSeconds))
      throw new Error(`teams[${i}] (${t.name}): ladder steps must come later one after another`);
    if (ladder.some((s) => s.step === 'escalate') && !t.escalation.length)
      throw new Error(`teams[${i}] (${t.name}): an escalate step needs an escalation contact`);
    teams.set(t.name, { name: t.name, channels: t.channels, escalation: t.escalation, ladder });
  });
  const known = (name: string, where: string) => {
    if (!teams.has(name)) throw new Error(`${where}: no team named ${JSON.stringify(name)}`);
  };
  known(file.operators, 'operators');
  known(file.default, 'default');
  const rules = file.rules.map((r, i) => {
    known(r.team, `rules[${i}]`);
    return { team: r.team, when: r.when };
  });
  const fields = [...new Set(rules.flatMap((r) => Object.keys(r.when)))];
  return { teams, rules, defaultTeam: file.default, operators: file.operators, fields };
}

/** Without a routing file: one team, the operators, on the one channel ALERT_CHANNEL names. */
export function singleTeam(channel: ChannelSpec): Routing {
  const team = { name: 'operators', channels: [channel], escalation: [], ladder: [] };
  return { teams: new Map([[team.name, team]]), rules: [], defaultTeam: team.name, operators: team.name, fields: [] };
}

/** The team responsible for a record, by the values Vault holds in the rules' fields. */
export function teamOf(routing: Routing, values: Record<string, unknown>): string {
  const rule = routing.rules.find((r) =>
    Object.entries(r.when).every(([field, allowed]) => allowed.includes(String(values[field] ?? ''))),
  );
  return rule?.team ?? routing.defaultTeam;
}

/** Where a problem is, as a reader finds it in the file: `teams[1] (site-b): channels[0].email`. */
function entryName(value: unknown, at: (string | number)[]): string {
  if (!at.length) return 'routing file';
  const [list, index, ...rest] = at;
  const entry = typeof index === 'number' ? (value as Record<string, { name?: unknown }[]>)[list]?.[index] : undefined;
  const named = entry && typeof entry.name === 'string' ? ` (${entry.name})` : '';
  const head = typeof index === 'number' ? `${list}[${index}]${named}` : String(list);
  const tail = (typeof index === 'number' ? rest : at.slice(1))
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
    .join('');
  return `${head}${tail ? `: ${tail.replace(/^\./, '')}` : ''}`;
}
