// Runs the test files given, in that order, N at a time, through Node's test runner: the spec reporter on stdout,
// scripts/test-report.mjs into a file. Started by scripts/test.mjs (`node --import tsx`, which every test process
// inherits). Unlike `node --test`, which sorts the files by name, this keeps their order: the longest first.
// Usage: node --import tsx scripts/test-run-files.mjs <concurrency> <report file> <file>…
import { createWriteStream } from 'node:fs';
import { compose } from 'node:stream';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import report from './test-report.mjs';

const [concurrency, reportFile, ...files] = process.argv.slice(2);
const tests = run({ files, concurrency: Number(concurrency) });
tests.on('test:fail', (data) => {
  if (!data.todo) process.exitCode = 1;
});
compose(tests, spec).pipe(process.stdout);
compose(tests, report).pipe(createWriteStream(reportFile));
