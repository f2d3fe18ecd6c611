import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { repoRoot, runCli } from '../testing/cli.ts';
import { pipelineTypeIsCurrent } from './pipeline-type-file.ts';

/** Type-checks files with `tsc --strict` semantics and returns the diagnostics as "file:line: TSxxxx message". */
function compile(files: string[]): string[] {
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: ['node'],
    typeRoots: [join(repoRoot, 'node_modules/@types')],
    skipLibCheck: true,
  });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file ? `${d.file.fileName.split('/').pop()}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
    return `${where}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}

async function generate(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const out = await mkdtemp(join(tmpdir(), 'tf-types-'));
  t.after(() => rm(out, { recursive: true, force: true }));
  const r = await runCli(['types', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  return out;
}

test('generated types compile under --strict, and correct client code using them compiles', async (t) => {
  const out = await generate(t);
  assert.deepEqual((await readdir(out)).sort(), ['admin-permission.ts', 'clouddm-data-change.ts', 'clouddm-permission.ts', 'common.ts', 'index.ts', 'signature.ts', 'sql-change.ts', 'travel-expense.ts']);
  await writeFile(
    join(out, 'client.ts'),
    `import { signatureHeaders, signRequestV11, verifyRequest, verifyRequestV11, type AdminPermissionRequest, type TicketResult, type TravelExpenseFields } from './index.js';
export function handle(req: AdminPermissionRequest): TicketResult {
  const roles: Array<'viewer' | 'editor' | 'admin'> = req.fields.roles;
  const until: string | undefined = req.fields.until;
  const system: string = req.fields.system;
  return { ticket_id: req.ticket_id, result: roles.length > 0 && system !== '' && until !== 'never', msg: 'ok' };
}
export const lines = (f: TravelExpenseFields) => f.lines.map((l) => l.amount.value + (l.category === 'meals' ? 0 : 1));
export const ok = verifyRequest({ secrets: ['s'], timestamp: '1', signature: 'x', rawBody: '' }).ok;
export const ok11 = verifyRequestV11({ secrets: ['s'], method: 'POST', path: '/check', rawBody: '', ...signatureHeaders({ 'x-ticketflow-timestamp': '1' }) }).ok;
export const callbackHeaders: Record<string, string> = signRequestV11('s', { method: 'POST', path: 'https://tf.example.com/api/v1/callback/check', idempotencyKey: 't:check', rawBody: '{}' });
`,
  );
  assert.deepEqual(compile([join(out, 'client.ts')]), []);
});

test('client code misusing a field fails to compile: wrong type, unknown field, option outside the list, missing field', async (t) => {
  const out = await generate(t);
  await writeFile(
    join(out, 'misuse.ts'),
    `import type { AdminPermissionFields } from './index.js';
export const wrongType: AdminPermissionFields = { system: 'crm', roles: 'viewer', reason: 'r' };
export const unknownField: AdminPermissionFields = { system: 'crm', roles: ['viewer'], reason: 'r', colour: 'red' };
export const badOption: AdminPermissionFields = { system: 'crm', roles: ['root'], reason: 'r' };
export const missing: AdminPermissionFields = { system: 'crm', roles: ['viewer'] };
`,
  );
  const errors = compile([join(out, 'misuse.ts')]);
  assert.equal(errors.length, 4, errors.join('\n'));
  assert.match(errors[0]!, /^misuse\.ts:2: TS2322 Type 'string' is not assignable to type '\("viewer" \| "editor" \| "admin"\)\[\]'/);
  assert.match(errors[1]!, /^misuse\.ts:3: TS2353 Object literal may only specify known properties, and 'colour' does not exist in type 'AdminPermissionFields'/);
  assert.match(errors[2]!, /^misuse\.ts:4: TS2322 Type '"root"' is not assignable to type '"viewer" \| "editor" \| "admin"'/);
  assert.match(errors[3]!, /^misuse\.ts:5: TS2741 Property 'reason' is missing/);
});

test('the committed generated files are up to date (src/generated and the engine Pipeline type)', async (t) => {
  const out = await generate(t);
  for (const name of await readdir(out)) {
    assert.equal(await readFile(join(repoRoot, 'src/generated', name), 'utf8'), await readFile(join(out, name), 'utf8'), `src/generated/${name} is stale: run npm run types`);
  }
  assert.ok(await pipelineTypeIsCurrent(), 'src/pipeline/pipeline.generated.ts is stale: run npm run gen:pipeline-type');
});
