#!/usr/bin/env node
// Runs every src/**/*.test.ts with Node's built-in test runner (through tsx) and ends with "N passed, N failed".
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const only = process.argv.slice(2);
const entries = await readdir('src', { recursive: true, withFileTypes: true });
const files = entries
  .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
  .map((e) => join(e.parentPath, e.name))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
if (files.length === 0) {
  // Given no file, node --test would look for test files itself, and run the whole suite.
  console.error(`no test file under src/ matches ${only.join(', ')}`);
  process.exit(1);
}

const tapFile = join(tmpdir(), `ticketflow-test-${process.pid}.tap`);
let passed = 0;
let failed = 0;
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tapFile}`, ...files],
  { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, NODE_ENV: 'test' } },
);
const code = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
const { readFile, rm } = await import('node:fs/promises');
const tap = await readFile(tapFile, 'utf8').catch(() => '');
await rm(tapFile, { force: true });
passed = Number(/^# pass (\d+)/m.exec(tap)?.[1] ?? 0);
failed = Number(/^# fail (\d+)/m.exec(tap)?.[1] ?? 0) + Number(/^# cancelled (\d+)/m.exec(tap)?.[1] ?? 0);
if (code !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = code === 0 && failed === 0 ? 0 : 1;
