import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseRouting, teamOf } from '../src/alerts/routing';
import { loadConfig } from '../src/config';

// The routing file: who is responsible for which record, and how each team is told. Checked whole at start, with
// one line naming the entry at fault.

const TEAMS = {
  operators: 'qa-ops',
  default: 'qa-ops',
  teams: [
    { name: 'qa-ops', channels: ['log'] },
    {
      name: 'boston',
      channels: [{ email: 'qa-boston@example.com' }, { webhook: 'https://chat.example.com/hooks/boston' }],
      escalation: [{ email: ['head-of-qa@example.com'] }],
      ladder: [
        { after: '3d', step: 'remind' },
        { after: '7d', step: 'escalate' },
      ],
    },
    { name: 'dublin', channels: [{ email: ['qa-dublin@example.com', 'qa-dublin-2@example.com'] }] },
  ],
  rules: [
    { team: 'boston', when: { site__c: 'Boston' } },
    { team: 'dublin', when: { site__c: ['Dublin', 'Cork'], department__c: 'Quality' } },
  ],
};

it('maps a record to the first rule its fields match, else to the default team', () => {
  const routing = parseRouting(TEAMS);
  expect(routing.fields).toEqual(['site__c', 'department__c']);
  expect(teamOf(routing, { site__c: 'Boston' })).toBe('boston');
  expect(teamOf(routing, { site__c: 'Cork', department__c: 'Quality' })).toBe('dublin');
  expect(teamOf(routing, { site__c: 'Cork', department__c: 'Finance' })).toBe('qa-ops');
  expect(teamOf(routing, {})).toBe('qa-ops');
  // YAML reads `site__c: 101` as a number: a rule compares values as text.
  const bySiteNumber = parseRouting({ ...TEAMS, rules: [{ team: 'boston', when: { site__c: 101 } }] });
  expect(teamOf(bySiteNumber, { site__c: '101' })).toBe('boston');
  expect(routing.teams.get('boston')).toEqual({
    name: 'boston',
    channels: [
      { kind: 'email', to: ['qa-boston@example.com'] },
      { kind: 'webhook', url: 'https://chat.example.com/hooks/boston' },
    ],
    escalation: [{ kind: 'email', to: ['head-of-qa@example.com'] }],
    ladder: [
      { afterSeconds: 3 * 86_400, step: 'remind' },
      { afterSeconds: 7 * 86_400, step: 'escalate' },
    ],
  });
});

const withTeam = (i: number, change: Record<string, unknown>) => ({
  ...TEAMS,
  teams: TEAMS.teams.map((t, j) => (j === i ? { ...t, ...change } : t)),
});

it.each([
  ['an unknown field', { ...TEAMS, owners: [] }, "routing file: Unrecognized key(s) in object: 'owners'"],
  [
    'an unknown field in a team',
    withTeam(1, { pager: '555' }),
    "teams[1] (boston): Unrecognized key(s) in object: 'pager'",
  ],
  [
    'a bad address',
    withTeam(2, { channels: [{ email: ['qa-dublin@'] }] }),
    'teams[2] (dublin): channels[0]: not an email address',
  ],
  [
    'a bad webhook',
    withTeam(0, { channels: [{ webhook: 'javascript:alert(1)' }] }),
    'teams[0] (qa-ops): channels[0].webhook: not an http(s) URL',
  ],
  [
    'a team name no listing can carry',
    withTeam(2, { name: 'QA (Dublin)' }),
    'teams[2] (QA (Dublin)): name: a name of letters',
  ],
  [
    'a step after no time',
    withTeam(1, { ladder: [{ after: '0d', step: 'remind' }] }),
    'teams[1] (boston): ladder[0].after: a duration like 3d',
  ],
  [
    'a duplicate team',
    { ...TEAMS, teams: [...TEAMS.teams, { name: 'boston', channels: ['log'] }] },
    'teams[3] (boston): a second team of that name',
  ],
  [
    'a rule for no team',
    { ...TEAMS, rules: [{ team: 'cork', when: { site__c: 'Cork' } }] },
    'rules[0]: no team named "cork"',
  ],
  ['an unknown default team', { ...TEAMS, default: 'nobody' }, 'default: no team named "nobody"'],
  [
    'a bad duration',
    withTeam(1, { ladder: [{ after: 'three days', step: 'remind' }] }),
    'teams[1] (boston): ladder[0].after: a duration like 3d, 12h, 30m or 45s (or whole seconds)',
  ],
  [
    'steps out of order',
    withTeam(1, {
      ladder: [
        { after: '7d', step: 'remind' },
        { after: '3d', step: 'escalate' },
      ],
    }),
    'teams[1] (boston): ladder steps must come later one after another',
  ],
  [
    'an escalation with no contact',
    withTeam(2, { ladder: [{ after: '7d', step: 'escalate' }] }),
    'teams[2] (dublin): an escalate step needs an escalation contact',
  ],
  [
    'a rule on a field that is no Vault field',
    { ...TEAMS, rules: [{ team: 'boston', when: { site: 'Boston' } }] },
    'rules[0]: when.site: a Vault field name like site__c',
  ],
])('refuses %s with one line naming the entry', (_, content, message) => {
  expect(() => parseRouting(content)).toThrow(message);
});

describe('at start', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capa-routing-'));
  const file = (name: string, content: string) => {
    fs.writeFileSync(path.join(dir, name), content);
    return path.join(dir, name);
  };
  const load = (env: Record<string, string>) => () => loadConfig({ CAPA_DATA_DIR: dir, ...env });

  it('reads YAML, and needs an SMTP server where a team is told by email', () => {
    const yaml = file(
      'routing.yaml',
      [
        'operators: qa-ops',
        'default: qa-ops',
        'teams:',
        '  - name: qa-ops',
        '    channels: [{ email: qa-ops@example.com }]',
      ].join('\n'),
    );
    expect(load({ CAPA_ROUTING_FILE: yaml })).toThrow(
      'invalid configuration:\n  CAPA_SMTP_HOST: required, the routing file sends email',
    );
    const config = load({
      CAPA_ROUTING_FILE: yaml,
      CAPA_SMTP_HOST: 'smtp.example.com',
      CAPA_SMTP_FROM: 'capa@example.com',
    })();
    expect(config.alerts.smtp).toEqual({
      host: 'smtp.example.com',
      port: 587,
      secure: false,
      insecure: false,
      from: 'capa@example.com',
    });
    expect([...config.alerts.routing.teams.keys()]).toEqual(['qa-ops']);
  });

  it('loads the example routing file the runbook shows', () => {
    const example = path.join(__dirname, '../examples/routing.yaml');
    const smtp = { CAPA_SMTP_HOST: 'smtp.example.com', CAPA_SMTP_FROM: 'capa@example.com' };
    const { routing } = load({ CAPA_ROUTING_FILE: example, ...smtp })().alerts;
    expect([...routing.teams.keys()]).toEqual(['qa-ops', 'boston', 'dublin']);
    expect(routing.fields).toEqual(['site__c', 'department__c']);
    expect(routing.teams.get('boston')!.ladder.map((s) => s.step)).toEqual(['remind', 'escalate']);
  });

  it('names the file setting and the entry, in one line, for a bad file', () => {
    const bad = file('bad.json', JSON.stringify(withTeam(2, { channels: [{ email: 'nobody' }] })));
    expect(load({ CAPA_ROUTING_FILE: bad })).toThrow(
      /^invalid configuration:\n {2}CAPA_ROUTING_FILE: teams\[2\] \(dublin\): channels\[0\]: not an email address$/,
    );
    const broken = file('broken.yaml', 'teams: [');
    expect(load({ CAPA_ROUTING_FILE: broken })).toThrow(
      /^invalid configuration:\n {2}CAPA_ROUTING_FILE: cannot read YAML or JSON from .*broken\.yaml \([^\n]+\)$/,
    );
    expect(load({ CAPA_ROUTING_FILE: path.join(dir, 'missing.yaml') })).toThrow(/CAPA_ROUTING_FILE: cannot read/);
  });

  it('sends in plain SMTP only to a relay on this machine', () => {
    const smtp = { CAPA_SMTP_FROM: 'capa@example.com', CAPA_SMTP_TLS: 'none' };
    expect(load({ ...smtp, CAPA_SMTP_HOST: 'smtp.example.com' })).toThrow(
      'CAPA_SMTP_TLS: none is for a relay on this machine only',
    );
    expect(load({ ...smtp, CAPA_SMTP_HOST: 'localhost' })().alerts.smtp).toMatchObject({ insecure: true });
  });

  it('refuses an SMTP password file that is not there, and a password file without a login', () => {
    const smtp = { CAPA_SMTP_HOST: 'smtp.example.com', CAPA_SMTP_FROM: 'capa@example.com' };
    expect(load({ ...smtp, CAPA_SMTP_USER: 'capa', CAPA_SMTP_PASSWORD_FILE: path.join(dir, 'nope') })).toThrow(
      'CAPA_SMTP_PASSWORD_FILE: cannot read',
    );
    expect(load({ ...smtp, CAPA_SMTP_PASSWORD_FILE: file('pw', 'secret') })).toThrow(
      'CAPA_SMTP_USER: required with CAPA_SMTP_PASSWORD_FILE',
    );
  });
});
