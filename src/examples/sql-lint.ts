/** The database team's lint, shared by its two services (dbops-service.ts, clouddm-service.ts). */
export function statementsOf(sql: string): string[] {
  return sql
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Why the statements may not run through a ticket, or undefined when they may. */
export function sqlRefusal(statements: readonly string[], kind: 'dml' | 'ddl' | 'any'): string | undefined {
  if (statements.length === 0) return 'There is no statement to run.';
  for (const s of statements) {
    const verb = /^\w+/.exec(s)?.[0]?.toLowerCase() ?? '';
    if (verb === 'drop' || verb === 'truncate') return `${verb.toUpperCase()} is not run through tickets; ask the DBA team: "${abbreviate(s)}"`;
    if ((verb === 'update' || verb === 'delete') && !/\bwhere\b/i.test(s)) return `${verb.toUpperCase()} without WHERE would touch every row: "${abbreviate(s)}"`;
    if (kind === 'dml' && ['create', 'alter', 'rename'].includes(verb)) return `The change type is a data change, but "${abbreviate(s)}" changes the schema.`;
    if (kind === 'ddl' && ['insert', 'update', 'delete'].includes(verb)) return `The change type is a schema change, but "${abbreviate(s)}" changes data.`;
  }
  return undefined;
}

const abbreviate = (s: string) => (s.length > 60 ? `${s.slice(0, 57)}…` : s);
