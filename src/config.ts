import { resolve } from 'node:path';
import { isLoopback } from './security/loopback.ts';

/** The runtime's configuration, read from the environment only: every variable is in docs/configuration.md (src/docs.test.ts checks it). */
export interface Config {
  databaseUrl?: string;
  dataDir: string;
  port: number;
  host: string;
  publicUrl: string;
  pipelinesDir: string;
  allowedHosts?: string[];
  logLevel: string;
  /**
   * Sandbox mode: no IM is configured at all (neither LARK_APP_ID nor DINGTALK_APP_KEY), so the runtime drives the
   * built-in Lark simulator, signs every visitor in as an operator and invents pipeline secrets: loopback only.
   */
  sandbox: boolean;
  /**
   * Sandbox mode only, set by the runtime once it started it: the example business service, which the outbound
   * guard calls in place of reserved example hosts (`*.example.com`, src/business/example-hosts.ts).
   */
  exampleServiceUrl?: string;
  lark: {
    /** Lark is in use: LARK_APP_ID is set, or the simulator stands in for it (sandbox). */
    enabled: boolean;
    appId: string;
    appSecret: string;
    encryptKey?: string;
    verificationToken?: string;
    optionsToken?: string;
    /** The Key of the external options data source: results are encrypted with it. */
    optionsEncryptKey?: string;
    baseUrl: string;
    assistantUserId?: string;
    ratePerMinute: number;
  };
  /** Largest callback body accepted (bytes). */
  bodyLimit: number;
  /** How long SIGTERM waits for work in flight. */
  shutdownGraceMs: number;
  /** An open ticket that has not moved for this long gets its instance re-read. */
  reconcileAfterMs: number;
  /** The longest wait between two re-reads of an instance that shows nothing new (the wait doubles up to it). */
  reconcileMaxMs: number;
  /** How often the reconciler looks for such tickets. */
  reconcileEveryMs: number;
  /** How often the drift watch re-reads every live pipeline's IM definition (one replica per interval); 0: never periodically. */
  driftCheckIntervalMs: number;
  /** Jobs one process runs at once. */
  workerConcurrency: number;
  /**
   * A process whose workers have not beaten for this long is presumed dead (a SIGKILL, a lost machine): any replica
   * releases its jobs and hands over its pending effects. Workers beat every quarter of it.
   */
  workerDeadAfterMs: number;
  /** The HTTP server's limits, and the token /metrics and the details of /readyz need (when set). */
  http: {
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    maxConnections: number;
    metricsToken?: string;
  };
  /** Present when DINGTALK_APP_KEY is set. */
  dingtalk?: {
    appKey: string;
    appSecret: string;
    token?: string;
    aesKey?: string;
    eventMode: 'http' | 'stream';
    apiBaseUrl: string;
    oapiBaseUrl: string;
    streamUrl?: string;
    assistantUserId: string;
  };
  console: {
    adminToken?: string;
    operators: string[];
    viewers: string[];
    /** Signs console sessions; random per process when unset (sessions then end with the process). */
    sessionSecret?: string;
    sessionTtlMs: number;
  };
}

export class ConfigError extends Error {}

/** The shortest admin token or session secret accepted: shorter ones can be guessed. */
export const MIN_CREDENTIAL_BYTES = 32;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = integer(env, 'PORT', 3000);
  const lark = Boolean(env.LARK_APP_ID);
  const sandbox = !lark && !env.DINGTALK_APP_KEY;
  const host = env.HOST || '127.0.0.1';
  if (sandbox && !isLoopback(host)) {
    throw new ConfigError(
      `no IM is configured (LARK_APP_ID, DINGTALK_APP_KEY), which is sandbox mode: every visitor is signed in as an operator and pipeline secrets are invented, so it listens on loopback only, and HOST is ${host}. Configure an IM, or set HOST=127.0.0.1`,
    );
  }
  for (const name of ['TICKETFLOW_ADMIN_TOKEN', 'TICKETFLOW_SESSION_SECRET']) {
    const value = env[name];
    if (value && Buffer.byteLength(value) < MIN_CREDENTIAL_BYTES) throw new ConfigError(`${name} holds ${Buffer.byteLength(value)} bytes; it needs at least ${MIN_CREDENTIAL_BYTES} (e.g. openssl rand -hex 32)`);
  }
  if (lark && !env.LARK_APP_SECRET) throw new ConfigError('LARK_APP_ID is set but LARK_APP_SECRET is not');
  if (lark && !env.LARK_ASSISTANT_USER_ID) throw new ConfigError('LARK_ASSISTANT_USER_ID is not set: it names the account assigned to the check and execute nodes');
  if (lark && !env.LARK_VERIFICATION_TOKEN && !env.LARK_ENCRYPT_KEY) {
    throw new ConfigError('set LARK_VERIFICATION_TOKEN (and preferably LARK_ENCRYPT_KEY): without them Lark callbacks cannot be authenticated');
  }
  return frozenConfig({
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: resolve(env.TICKETFLOW_DATA_DIR || './.data'),
    port,
    host,
    publicUrl: (env.PUBLIC_URL || `http://localhost:${port}`).replace(/\/+$/, ''),
    pipelinesDir: resolve(env.PIPELINES_DIR || './pipelines'),
    allowedHosts: env.TICKETFLOW_ALLOWED_HOSTS ? env.TICKETFLOW_ALLOWED_HOSTS.split(',').map((h) => h.trim()).filter(Boolean) : undefined,
    logLevel: env.LOG_LEVEL || 'info',
    sandbox,
    lark: {
      enabled: lark || sandbox,
      appId: env.LARK_APP_ID || 'cli_sandbox0000000000',
      appSecret: env.LARK_APP_SECRET || 'sandbox-app-secret',
      encryptKey: env.LARK_ENCRYPT_KEY || undefined,
      verificationToken: env.LARK_VERIFICATION_TOKEN || undefined,
      optionsToken: env.LARK_OPTIONS_TOKEN || undefined,
      optionsEncryptKey: env.LARK_OPTIONS_ENCRYPT_KEY || undefined,
      baseUrl: (env.LARK_BASE_URL || 'https://open.feishu.cn').replace(/\/+$/, ''),
      assistantUserId: env.LARK_ASSISTANT_USER_ID || undefined,
      ratePerMinute: integer(env, 'LARK_RATE_PER_MINUTE', 100),
    },
    bodyLimit: integer(env, 'TICKETFLOW_BODY_LIMIT', 1 << 20),
    shutdownGraceMs: integer(env, 'TICKETFLOW_SHUTDOWN_GRACE_MS', 10_000),
    reconcileAfterMs: integer(env, 'TICKETFLOW_RECONCILE_AFTER_MS', 300_000),
    reconcileMaxMs: integer(env, 'TICKETFLOW_RECONCILE_MAX_MS', 24 * 3_600_000),
    reconcileEveryMs: integer(env, 'TICKETFLOW_RECONCILE_EVERY_MS', 60_000),
    driftCheckIntervalMs: integer(env, 'TICKETFLOW_DRIFT_CHECK_INTERVAL_MS', 3_600_000),
    workerConcurrency: integer(env, 'TICKETFLOW_WORKER_CONCURRENCY', 16),
    workerDeadAfterMs: deadAfter(env),
    http: httpConfig(env),
    dingtalk: env.DINGTALK_APP_KEY ? dingtalkConfig(env) : undefined,
    console: {
      adminToken: env.TICKETFLOW_ADMIN_TOKEN || undefined,
      operators: list(env.TICKETFLOW_OPERATORS),
      viewers: list(env.TICKETFLOW_VIEWERS),
      sessionSecret: env.TICKETFLOW_SESSION_SECRET || undefined,
      sessionTtlMs: integer(env, 'TICKETFLOW_SESSION_TTL_MS', 8 * 3_600_000),
    },
  });
}

/** A configuration is read, never changed: every object in it is frozen, and a different one is a new object. */
export function frozenConfig(config: Config): Config {
  return deepFreeze(config);
}

function deepFreeze<T extends object>(value: T): T {
  for (const member of Object.values(value)) if (member && typeof member === 'object' && !Object.isFrozen(member)) deepFreeze(member);
  return Object.freeze(value);
}

function httpConfig(env: NodeJS.ProcessEnv): Config['http'] {
  const http = {
    headersTimeoutMs: integer(env, 'TICKETFLOW_HEADERS_TIMEOUT_MS', 10_000),
    requestTimeoutMs: integer(env, 'TICKETFLOW_REQUEST_TIMEOUT_MS', 30_000),
    maxConnections: integer(env, 'TICKETFLOW_MAX_CONNECTIONS', 1_000),
    metricsToken: env.TICKETFLOW_METRICS_TOKEN || undefined,
  };
  if (http.headersTimeoutMs === 0 || http.requestTimeoutMs === 0 || http.maxConnections === 0) throw new ConfigError('TICKETFLOW_HEADERS_TIMEOUT_MS, TICKETFLOW_REQUEST_TIMEOUT_MS and TICKETFLOW_MAX_CONNECTIONS must be above 0');
  if (http.headersTimeoutMs > http.requestTimeoutMs) throw new ConfigError('TICKETFLOW_HEADERS_TIMEOUT_MS must not exceed TICKETFLOW_REQUEST_TIMEOUT_MS (the headers are part of the request)');
  if (http.metricsToken && Buffer.byteLength(http.metricsToken) < MIN_CREDENTIAL_BYTES) throw new ConfigError(`TICKETFLOW_METRICS_TOKEN holds ${Buffer.byteLength(http.metricsToken)} bytes; it needs at least ${MIN_CREDENTIAL_BYTES} (e.g. openssl rand -hex 32)`);
  return http;
}

function dingtalkConfig(env: NodeJS.ProcessEnv): NonNullable<Config['dingtalk']> {
  if (!env.DINGTALK_APP_SECRET) throw new ConfigError('DINGTALK_APP_KEY is set but DINGTALK_APP_SECRET is not');
  if (!env.DINGTALK_ASSISTANT_USER_ID) throw new ConfigError('DINGTALK_ASSISTANT_USER_ID is not set: it names the account assigned to the check and execute nodes');
  const eventMode = env.DINGTALK_EVENT_MODE || 'http';
  if (eventMode !== 'http' && eventMode !== 'stream') throw new ConfigError(`DINGTALK_EVENT_MODE must be http or stream, got "${eventMode}"`);
  if (eventMode === 'http' && (!env.DINGTALK_TOKEN || !env.DINGTALK_AES_KEY)) throw new ConfigError('HTTP push needs DINGTALK_TOKEN and DINGTALK_AES_KEY');
  if (env.DINGTALK_AES_KEY && env.DINGTALK_AES_KEY.length !== 43) throw new ConfigError('DINGTALK_AES_KEY must be 43 characters');
  return {
    appKey: env.DINGTALK_APP_KEY!,
    appSecret: env.DINGTALK_APP_SECRET,
    token: env.DINGTALK_TOKEN || undefined,
    aesKey: env.DINGTALK_AES_KEY || undefined,
    eventMode,
    apiBaseUrl: (env.DINGTALK_API_BASE_URL || 'https://api.dingtalk.com').replace(/\/+$/, ''),
    oapiBaseUrl: (env.DINGTALK_OAPI_BASE_URL || 'https://oapi.dingtalk.com').replace(/\/+$/, ''),
    streamUrl: env.DINGTALK_STREAM_URL || undefined,
    assistantUserId: env.DINGTALK_ASSISTANT_USER_ID,
  };
}

function list(raw: string | undefined): string[] {
  return (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function deadAfter(env: NodeJS.ProcessEnv): number {
  const ms = integer(env, 'TICKETFLOW_WORKER_DEAD_AFTER_MS', 20_000);
  // Below a second, a busy but live process could be taken for dead and its work run twice.
  if (ms < 1_000) throw new ConfigError(`TICKETFLOW_WORKER_DEAD_AFTER_MS must be at least 1000, got ${ms}`);
  return ms;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  return Number(raw);
}
