#!/usr/bin/env node
// Runs every src/**/*.test.ts (or those whose path contains one of the arguments) with Node's built-in test runner
// (through tsx), several files at a time, and ends with "N passed, N failed".
//
// Databases: with DATABASE_URL set, each test file creates its databases on that server (and fewer files run at once
// when its free connections would not hold more, see filesTheServerCanHold). Without it, this script
// starts ONE embedded PostgreSQL for the whole run and hands its URL to the test processes as
// TICKETFLOW_TEST_PG_URL, on which each file creates fresh databases (src/testing/database.ts); only the tests of
// the embedded default itself (`serve` on TICKETFLOW_DATA_DIR) start a server of their own. The shared server is
// stopped and its folder removed at the end, also when tests fail or this script is interrupted (SIGINT, SIGTERM,
// SIGHUP); one left by a run that was killed outright (SIGKILL) is removed by the next run.
//
// Files run TICKETFLOW_TEST_CONCURRENCY at a time (default below), longest first. A run that has not ended after
// TICKETFLOW_TEST_TIMEOUT_S (default 1800) is stopped and fails, naming the files still running (a test file that
// leaves a server or a timer open never exits, and the test runner would wait for it forever).
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';

/**
 * Files at once: 2 per core, 4 on the 2-core machines. A test file mostly waits (HTTP, PostgreSQL, timers, processes
 * starting), so one file at a time left a core idle: 442 s for the 58 files of the time, 432 s of CPU. Measured with
 * the shared server on the 2-core machine (others' tests running too): 3 at once 177 s, 4 at once 159 and 181 s, 6 at
 * once 188 s, each about 280 s of CPU: from 3 on the cores are the limit. 4 keeps both busy while files wait; more
 * finishes no sooner and starves the tests that measure time under load (paced approvals, a flood, server timeouts).
 */
const defaultConcurrency = 2 * availableParallelism();

/**
 * How long each file takes, roughly (ms, measured on the 2-core machine), to start the longest first: the run ends no
 * sooner than its longest file. Durations measured by earlier runs on this machine (kept under node_modules/.cache)
 * take precedence; a file in neither starts after these, in name order.
 */
const typicalMs = {
  'src/tickets/resilience.test.ts': 45_000,
  'src/cli/serve.test.ts': 20_000,
  'src/console/console.e2e.test.ts': 20_000,
  'src/console/playground.e2e.test.ts': 20_000,
  'src/jobs/instance-backoff.test.ts': 20_000,
  'src/cli/doctor.test.ts': 15_000,
  'src/typecheck.test.ts': 15_000,
  'src/tickets/flow.test.ts': 25_000,
  'src/cli/validate.test.ts': 12_000,
  'src/cli/demo.test.ts': 10_000,
  'src/providers/dingtalk/documented-flow.test.ts': 10_000,
  'src/providers/dingtalk/flow.test.ts': 10_000,
  'src/tickets/api-tickets.test.ts': 10_000,
  'src/tickets/contract.test.ts': 10_000,
};
const cacheFile = 'node_modules/.cache/ticketflow/test-durations.json';

const only = process.argv.slice(2);
const entries = await readdir('src', { recursive: true, withFileTypes: true });
const found = entries
  .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
  .map((e) => join(e.parentPath, e.name))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
if (found.length === 0) {
  // Given no file, the test runner would look for test files itself, and run the whole suite.
  console.error(`no test file under src/ matches ${only.join(', ')}`);
  process.exit(1);
}
const measured = await readDurations();
const expectedMs = (f) => measured[f] ?? typicalMs[f] ?? 0;
const files = found.map((f, i) => [f, i]).sort(([a, i], [b, j]) => expectedMs(b) - expectedMs(a) || i - j).map(([f]) => f);
let concurrency = Math.max(1, Number(process.env.TICKETFLOW_TEST_CONCURRENCY) || defaultConcurrency);
const timeoutS = Number(process.env.TICKETFLOW_TEST_TIMEOUT_S) || 1800;

const startedAt = Date.now();
const work = await mkdtemp(join(tmpdir(), 'tf-test-run-'));
const reportFile = join(work, 'report.jsonl'); // scripts/test-report.mjs: each file's duration, the closing summary

// Interruption: stop the test processes, then clean up as after a normal run.
let interrupted;
let child;
const stopTests = (signal) => {
  if (child && child.exitCode === null && child.signalCode === null) {
    killGroup(child, signal);
    setTimeout(() => killGroup(child, 'SIGKILL'), 5_000).unref();
  }
};
const onSignal = (signal) => {
  if (interrupted) return;
  interrupted = signal;
  console.error(`\n${signal}: stopping the tests and the shared PostgreSQL…`);
  stopTests(signal);
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, onSignal);

let shared;
let code = 1;
let databases;
let timedOut;
try {
  const outside = process.env.DATABASE_URL ? 'DATABASE_URL' : process.env.TICKETFLOW_TEST_PG_URL ? 'TICKETFLOW_TEST_PG_URL' : undefined;
  if (outside) {
    databases = `fresh databases per test file on the server of ${outside}`;
    if (!process.env.TICKETFLOW_TEST_CONCURRENCY) concurrency = await filesTheServerCanHold(process.env[outside], concurrency);
  } else {
    shared = await startSharedServer();
    databases = `one shared embedded PostgreSQL (started in ${(shared.startMs / 1000).toFixed(1)} s), fresh databases per test file on it`;
  }
  if (!interrupted) {
    // Detached: the test processes form a process group of their own, which stopTests stops as one.
    child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./test-run-files.mjs', import.meta.url)), String(concurrency), reportFile, ...files.map((f) => resolve(f))],
      { stdio: ['ignore', 'inherit', 'inherit'], detached: true, env: { ...process.env, NODE_ENV: 'test', ...(shared && { TICKETFLOW_TEST_PG_URL: shared.url }) } },
    );
    const watchdog = setTimeout(async () => {
      const done = new Set((await readReport()).filter((r) => r.file).map((r) => relative(process.cwd(), r.file)));
      timedOut = files.filter((f) => !done.has(f));
      console.error(`\nthe run has not ended after ${timeoutS} s (TICKETFLOW_TEST_TIMEOUT_S); stopping it. Not finished: ${timedOut.join(', ')}`);
      stopTests('SIGTERM');
    }, timeoutS * 1000);
    code = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
    clearTimeout(watchdog);
  }
} catch (e) {
  console.error(e);
} finally {
  if (shared) await shared.stop().catch((e) => console.error('stopping the shared PostgreSQL failed:', e));
}

const report = await readReport();
await rm(work, { recursive: true, force: true });
const durations = report.filter((r) => r.file).map((r) => ({ file: relative(process.cwd(), r.file), ms: r.ms }));
const summary = report.filter((r) => r.summary).map((r) => r.summary).join('\n');
await rememberDurations(durations).catch(() => undefined);

const wall = (Date.now() - startedAt) / 1000;
const sum = durations.reduce((s, d) => s + d.ms, 0) / 1000;
const slowest = [...durations].sort((a, b) => b.ms - a.ms).slice(0, 8).map((d) => `${d.file} ${(d.ms / 1000).toFixed(1)} s`);
console.log(`\n${durations.length} of ${files.length} test files, ${concurrency} at a time; databases: ${databases ?? 'none (not started)'}`);
console.log(`wall time ${wall.toFixed(1)} s; sum of the files' durations ${sum.toFixed(1)} s; slowest: ${slowest.join(', ')}`);
if (interrupted) console.log(`interrupted by ${interrupted}`);
if (timedOut) console.log(`stopped after ${timeoutS} s; not finished: ${timedOut.join(', ')}`);

// The closing summary's counts; without one (the run was stopped), the tests that ended, and each file that did not.
const count = (name) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(summary)?.[1] ?? 0);
const ended = (result) => report.filter((r) => r.test === result).length;
const passed = summary ? count('pass') : ended('pass');
let failed = summary ? count('fail') + count('cancelled') : ended('fail') + (timedOut?.length ?? 0);
if ((code !== 0 || interrupted || timedOut) && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = code === 0 && failed === 0 && !interrupted && !timedOut ? 0 : 1;

/**
 * A test file holds up to ~80 connections at its peak (the resilience test's two runtimes); a server of our own allows
 * 1000, but an outside one often 100: then fewer files run at once (one, on a default server).
 */
async function filesTheServerCanHold(url, wanted) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const { rows } = await client.query(
      "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int - (SELECT count(*) FROM pg_stat_activity)::int AS free",
    );
    const fit = Math.max(1, Math.floor(rows[0].free / 80));
    if (fit < wanted) console.error(`the PostgreSQL server has ${rows[0].free} free connections: ${fit} test file(s) at a time (TICKETFLOW_TEST_CONCURRENCY overrides)`);
    return Math.min(wanted, fit);
  } catch {
    return wanted; // the tests will say what is wrong with the server
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function readReport() {
  return (await readFile(reportFile, 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** Each file's duration, for the order of the next run on this machine. */
async function rememberDurations(durations) {
  if (durations.length === 0) return;
  const known = await readDurations();
  for (const { file, ms } of durations) known[file] = Math.round(ms);
  await mkdir(resolve(cacheFile, '..'), { recursive: true });
  await writeFile(cacheFile, `${JSON.stringify(known, null, 1)}\n`);
}

async function readDurations() {
  try {
    return JSON.parse(await readFile(cacheFile, 'utf8'));
  } catch {
    return {}; // none yet (a fresh clone), or being written by another run
  }
}

function killGroup(proc, signal) {
  try {
    process.kill(-proc.pid, signal);
  } catch {
    try {
      proc.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** The run's one embedded PostgreSQL, in a temporary folder; durability off (its data is thrown away). */
async function startSharedServer() {
  const { startEmbedded } = await tsImport('../src/store/embedded.ts', import.meta.url);
  const { createLogger } = await tsImport('../src/log.ts', import.meta.url);
  await removeAbandonedServers();
  const dir = await mkdtemp(join(tmpdir(), 'tf-test-pg-'));
  const t0 = Date.now();
  let server;
  try {
    server = await startEmbedded(join(dir, 'data'), createLogger('error'), {
      max_connections: 1000, // several runtimes per test file, several files at once
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
    });
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    url: server.url,
    startMs: Date.now() - t0,
    async stop() {
      try {
        await server.stop();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Shared servers of earlier runs that were killed outright (SIGKILL): their server is stopped, their folder removed. */
async function removeAbandonedServers() {
  const names = (await readdir(tmpdir()).catch(() => [])).filter((n) => n.startsWith('tf-test-pg-'));
  for (const name of names) {
    const dir = join(tmpdir(), name);
    const owner = Number((await readFile(join(dir, 'data', 'runtime.lock'), 'utf8').catch(() => '')).trim());
    if (owner && isAlive(owner)) continue; // another run's, in progress
    const postmaster = Number((await readFile(join(dir, 'data', 'pg', 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
    if (!owner && !postmaster) {
      // Being set up by a run that has not locked it yet, or empty: only an old one is removed.
      const { mtimeMs } = await stat(dir).catch(() => ({ mtimeMs: Date.now() }));
      if (Date.now() - mtimeMs < 3_600_000) continue;
    }
    if (postmaster && isAlive(postmaster) && (await readFile(`/proc/${postmaster}/cmdline`, 'utf8').catch(() => '')).includes(dir)) {
      process.kill(postmaster, 'SIGQUIT'); // immediate shutdown
      for (let i = 0; i < 100 && isAlive(postmaster); i++) await new Promise((r) => setTimeout(r, 100));
    }
    await rm(dir, { recursive: true, force: true });
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}
