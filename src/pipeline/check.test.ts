import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkPipelines, type PipelineSource } from './check.ts';
import { formatText } from './diagnostic.ts';
import { isPipelineFile } from './files.ts';

const testdata = new URL('./testdata/', import.meta.url).pathname;
const read = (rel: string): PipelineSource => ({ path: rel, text: readFileSync(join(testdata, rel), 'utf8') });
const lines = (sources: PipelineSource[]) => checkPipelines(sources).diagnostics.map(formatText);

/** Replaces one line of a known-good fixture, so each test below breaks exactly one thing. */
function variant(path: string, from: string, to: string): PipelineSource {
  const good = readFileSync(join(testdata, 'valid/demo.yaml'), 'utf8').replace('name: demo', `name: ${path.replace(/\.yaml$/, '')}`);
  assert.ok(good.includes(from), `fixture has ${from}`);
  return { path, text: good.replace(from, to) };
}

test('the golden fixtures: each broken pipeline gives exactly its expected diagnostics', () => {
  const names = readdirSync(join(testdata, 'invalid')).filter((f) => f.endsWith('.yaml'));
  assert.ok(names.length >= 15);
  for (const name of names) {
    const expected = readFileSync(join(testdata, 'invalid', name.replace(/\.yaml$/, '.out')), 'utf8').trimEnd().split('\n');
    assert.deepEqual(lines([read(`invalid/${name}`)]), expected, name);
  }
});

test('a valid pipeline has no diagnostics and yields the typed pipeline', () => {
  const result = checkPipelines([read('valid/demo.yaml')]);
  assert.deepEqual(result.diagnostics, []);
  assert.equal(result.files[0]!.pipeline?.metadata.name, 'demo');
  assert.equal(result.files[0]!.pipeline?.stages.execute?.mode, 'async');
});

test('the example pipelines in pipelines/ are valid', () => {
  const dir = new URL('../../pipelines/', import.meta.url).pathname;
  const sources = readdirSync(dir).filter(isPipelineFile).map((f) => ({ path: `pipelines/${f}`, text: readFileSync(join(dir, f), 'utf8') }));
  assert.ok(sources.length >= 3);
  const result = checkPipelines(sources);
  assert.deepEqual(result.diagnostics.map(formatText), []);
  assert.equal(result.files.filter((f) => f.pipeline).length, sources.length);
});

test('YAML syntax error: position of the opening quote, and nothing else is reported', () => {
  const result = checkPipelines([variant('s.yaml', 'endpoint: https://svc.example.com/check', 'endpoint: "https://svc.example.com/check')]);
  assert.deepEqual(result.diagnostics.map(formatText), ['s.yaml:15:15: error: missing closing quote for the string that starts here [yaml-syntax]']);
  assert.equal(result.files[0]!.pipeline, undefined);
});

test('misspelt key: points at the key and suggests the right one', () => {
  const d = checkPipelines([variant('m.yaml', '    mode: sync', '    mdoe: sync')]).diagnostics.map(formatText);
  assert.deepEqual(d, [
    'm.yaml:13:3: error: missing required key "mode" in "stages.check" [schema]',
    'm.yaml:16:5: error: unknown key "mdoe" in "stages.check"; did you mean "mode"? (allowed: node, endpoint, mode, timeout, retry, deadline, on_deadline) [schema]',
  ]);
});

test('wrong type: points at the value', () => {
  const d = checkPipelines([variant('w.yaml', '  version: 1', '  version: "1"')]).diagnostics.map(formatText);
  assert.deepEqual(d, ['w.yaml:6:12: error: "metadata.version" must be an integer, got string "1" [schema]']);
});

test('bad enum value: points at the value and suggests the closest allowed value', () => {
  const d = checkPipelines([variant('e.yaml', '    on_deadline: operator', '    on_deadline: opertor')]).diagnostics.map(formatText);
  assert.deepEqual(d, ['e.yaml:22:18: error: invalid value "opertor" for "stages.execute.on_deadline"; did you mean "operator"? (expected one of: reject, operator) [schema]']);
});

test('bad enum value far from every allowed value: no suggestion', () => {
  const d = checkPipelines([variant('e.yaml', '    type: option', '    type: dropdown')]).diagnostics.map(formatText);
  assert.equal(d.length, 1);
  assert.match(d[0]!, /^e\.yaml:26:11: error: invalid value "dropdown" for "fields\.system\.type" \(expected one of: text, /);
});

test('duplicate pipeline name across two files: both positions are named', () => {
  const d = lines([read('duplicate-name/a/shared-name.yaml'), read('duplicate-name/b/shared-name.yaml')]);
  assert.deepEqual(d, readFileSync(join(testdata, 'duplicate-name/expected.out'), 'utf8').trimEnd().split('\n'));
  assert.ok(d.includes('duplicate-name/a/shared-name.yaml:5:9: error: pipeline name "shared-name" is used again at duplicate-name/b/shared-name.yaml:5:9 [unique-name]'));
  assert.ok(d.includes('duplicate-name/b/shared-name.yaml:5:9: error: pipeline name "shared-name" is already used at duplicate-name/a/shared-name.yaml:5:9 [unique-name]'));
});

test('literal secret: named at the value, and the schema error at the same place is not repeated', () => {
  const d = checkPipelines([variant('l.yaml', 'secret_env: TICKETFLOW_SECRET_DEMO', 'secret_env: "hunter2hunter2hunter2hunter2hunter2"')]).diagnostics.map(formatText);
  assert.deepEqual(d, [
    'l.yaml:11:13: error: "secret_env" looks like a literal secret; write the name of the environment variable that holds it (e.g. TICKETFLOW_SECRET_L) and remove the secret from the repository [literal-secret]',
  ]);
});

test('an API field may be called "token": keys of fields are API names, not settings', () => {
  const d = checkPipelines([variant('t.yaml', '  until:', '  token:')]).diagnostics;
  assert.deepEqual(d, []);
});

test('a warning alone leaves the pipeline usable', () => {
  const result = checkPipelines([variant('mismatch.yaml', 'name: mismatch', 'name: other')]);
  assert.equal(result.errorCount, 0);
  assert.equal(result.warningCount, 1);
  assert.ok(result.files[0]!.pipeline);
});

test('--base: a changed pipeline must raise its version; an unchanged one need not', () => {
  const before = variant('b.yaml', 'x', 'x').text;
  const changed = before.replace('mode: sync', 'mode: sync\n    timeout: 3s');
  const at = (text: string, base: string) => checkPipelines([{ path: 'b.yaml', text }], { baseText: () => base }).diagnostics.map(formatText);
  assert.deepEqual(at(before, before), []);
  assert.deepEqual(at(changed, before), [
    'b.yaml:6:12: error: the pipeline changed since the base revision but "metadata.version" is 1; raise it to 2 (tickets finish on the version they started on) [version-bump]',
  ]);
  assert.deepEqual(at(changed.replace('version: 1', 'version: 2'), before), []);
});

test('--base: removing or retyping a field is breaking unless acknowledged for this version', () => {
  const before = variant('b.yaml', 'x', 'x').text;
  const after = before.replace('version: 1', 'version: 2').replace('    type: date\n', '    type: datetime\n');
  const check = (text: string) => checkPipelines([{ path: 'b.yaml', text }], { baseText: () => before }).diagnostics.map(formatText);
  assert.deepEqual(check(after), [
    'b.yaml:32:11: error: breaking change: field "until" changed type from date to datetime; while tickets of version 1 finish, the business service receives both shapes; set "metadata.acknowledge_breaking: 2" once it handles them [breaking-change]',
  ]);
  assert.deepEqual(check(after.replace('  owner:', '  acknowledge_breaking: 2\n  owner:')), []);
  const removed = before.replace('version: 1', 'version: 2').replace(/  until:\n(    .*\n)+/, '');
  assert.match(check(removed)[0]!, /^b\.yaml:23:1: error: breaking change: field "until" was removed or renamed since version 1; /);
});
