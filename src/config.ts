import { resolve } from 'node:path';
import { isLoopback } from './security/loopback.ts';
import { dingTalkHookProblem } from './alarms/dingtalk-robot.ts';
import { larkHookProblem } from './alarms/lark-bot.ts';
import { sentryDsnProblem } from './alarms/sentry.ts';

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
   * Sandbox mode: no IM is configured at all (neither LARK_APP_ID, DINGTALK_APP_KEY nor WECOM_CORP_ID), so the runtime drives the
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
    /**
     * LARK_EVENT_MODE: how Lark delivers events, as chosen in the developer console (订阅方式). `webhook`: it POSTs them
     * to /api/v1/lark/callback; `websocket`: over the long connection the runtime opens (src/intake/lark-websocket.ts).
     * Always `webhook` in sandbox mode.
     */
    eventMode: 'webhook' | 'websocket';
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
    /**
     * LARK_APPROVAL_APPLINK: the AppLink base (with its appId) that reminders link to the approval through; the path
     * of the instance is added to it. Feishu's by default (src/providers/lark/provider.ts).
     */
    approvalAppLink?: string;
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
    /** DINGTALK_AGENT_ID: the app's AgentId, which sends work notifications (reminders); without it none is sent. */
    agentId?: number;
  };
  /**
   * Present when WECOM_CORP_ID is set (README, "WeCom"): the self-built app placed in 审批 → 可调用接口的应用, and its
   * callback (设置API接收: URL, Token, EncodingAESKey) at /api/v1/wecom/callback.
   */
  wecom?: {
    corpId: string;
    /** WECOM_APP_SECRET: the self-built app's secret (the 审批 system app's secret is refused since 2023-12-01). */
    appSecret: string;
    token: string;
    /** WECOM_ENCODING_AES_KEY: 43 characters. */
    aesKey: string;
    /** WECOM_BASE_URL: https://qyapi.weixin.qq.com by default. */
    baseUrl: string;
  };
  /** State-change events (README, "State-change events"): the runtime's own destination, and how deliveries retry. */
  events: {
    /** TICKETFLOW_EVENTS_URL: receives the state-change events of every pipeline, signed with `secret`. */
    url?: string;
    /** TICKETFLOW_EVENTS_SECRET: signs what `url` receives (at least 32 bytes); set with it. */
    secret?: string;
    /** The wait after a delivery's first failed attempt; each next one doubles, up to `maxDelayMs`. */
    retryMs: number;
    maxDelayMs: number;
    /** A delivery still failing this long after its first attempt is dead (later events of its ticket wait). */
    giveUpMs: number;
  };
  console: {
    adminToken?: string;
    operators: string[];
    viewers: string[];
    /** Signs console sessions; random per process when unset (sessions then end with the process). */
    sessionSecret?: string;
    sessionTtlMs: number;
  };
  /** Where alarms go (README, "Alarms"): each channel is present when configured; none configured, none is sent. */
  alarms: {
    /** TICKETFLOW_ALERT_LARK_WEBHOOK and its signing secret: a Lark custom bot. */
    lark?: { url: string; secret: string };
    /** TICKETFLOW_ALERT_DINGTALK_WEBHOOK and its 加签 secret: a DingTalk custom robot. */
    dingtalk?: { url: string; secret: string };
    /** SENTRY_DSN: Sentry, through its Node SDK (loaded only when set). */
    sentryDsn?: string;
    /** TICKETFLOW_ALERT_IM_CALLS_PER_MONTH: the `im_quota` alarm once an IM's counted calls of the month reach it. */
    imCallsPerMonth?: number;
  };
}

export class ConfigError extends Error {}

/** The shortest admin token or session secret accepted: shorter ones can be guessed. */
export const MIN_CREDENTIAL_BYTES = 32;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = integer(env, 'PORT', 3000);
  const lark = Boolean(env.LARK_APP_ID);
  const sandbox = !lark && !env.DINGTALK_APP_KEY && !env.WECOM_CORP_ID;
  const host = env.HOST || '127.0.0.1';
  if (sandbox && !isLoopback(host)) {
    throw new ConfigError(
      `no IM is configured (LARK_APP_ID, DINGTALK_APP_KEY, WECOM_CORP_ID), which is sandbox mode: every visitor is signed in as an operator and pipeline secrets are invented, so it listens on loopback only, and HOST is ${host}. Configure an IM, or set HOST=127.0.0.1`,
    );
  }
  for (const name of ['TICKETFLOW_ADMIN_TOKEN', 'TICKETFLOW_SESSION_SECRET']) {
    const value = env[name];
    if (value && Buffer.byteLength(value) < MIN_CREDENTIAL_BYTES) throw new ConfigError(`${name} holds ${Buffer.byteLength(value)} bytes; it needs at least ${MIN_CREDENTIAL_BYTES} (e.g. openssl rand -hex 32)`);
  }
  if (lark && !env.LARK_APP_SECRET) throw new ConfigError('LARK_APP_ID is set but LARK_APP_SECRET is not');
  if (lark && !env.LARK_ASSISTANT_USER_ID) throw new ConfigError('LARK_ASSISTANT_USER_ID is not set: it names the account assigned to the check and execute nodes');
  if (env.LARK_APPROVAL_APPLINK && !/^https:\/\/[^/\s]+\/\S*$/.test(env.LARK_APPROVAL_APPLINK)) throw new ConfigError(`LARK_APPROVAL_APPLINK must be an https URL (the AppLink base with its appId), got "${env.LARK_APPROVAL_APPLINK}"`);
  const larkEventMode = lark ? env.LARK_EVENT_MODE || 'webhook' : 'webhook';
  if (larkEventMode !== 'webhook' && larkEventMode !== 'websocket') throw new ConfigError(`LARK_EVENT_MODE must be webhook or websocket, got "${larkEventMode}"`);
  if (lark && larkEventMode === 'webhook' && !env.LARK_VERIFICATION_TOKEN && !env.LARK_ENCRYPT_KEY) {
    throw new ConfigError('set LARK_VERIFICATION_TOKEN (and preferably LARK_ENCRYPT_KEY): without them Lark callbacks cannot be authenticated (or receive events over the long connection: LARK_EVENT_MODE=websocket)');
  }
  // The SDK's WSClient.start() refuses any other app id, with a log line only (lib/index.js): nothing would arrive.
  if (larkEventMode === 'websocket' && !/^cli_[0-9a-fA-F]{16}$/.test(env.LARK_APP_ID!)) {
    throw new ConfigError(`LARK_EVENT_MODE=websocket needs LARK_APP_ID as Lark issues it, cli_ and 16 hexadecimal digits (the SDK's long-connection client refuses any other), got "${env.LARK_APP_ID}"`);
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
      eventMode: larkEventMode,
      appId: env.LARK_APP_ID || 'cli_sandbox0000000000',
      appSecret: env.LARK_APP_SECRET || 'sandbox-app-secret',
      encryptKey: env.LARK_ENCRYPT_KEY || undefined,
      verificationToken: env.LARK_VERIFICATION_TOKEN || undefined,
      optionsToken: env.LARK_OPTIONS_TOKEN || undefined,
      optionsEncryptKey: env.LARK_OPTIONS_ENCRYPT_KEY || undefined,
      baseUrl: (env.LARK_BASE_URL || 'https://open.feishu.cn').replace(/\/+$/, ''),
      assistantUserId: env.LARK_ASSISTANT_USER_ID || undefined,
      ratePerMinute: integer(env, 'LARK_RATE_PER_MINUTE', 100),
      approvalAppLink: env.LARK_APPROVAL_APPLINK || undefined,
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
    wecom: env.WECOM_CORP_ID ? wecomConfig(env) : undefined,
    events: eventsConfig(env),
    console: {
      adminToken: env.TICKETFLOW_ADMIN_TOKEN || undefined,
      operators: list(env.TICKETFLOW_OPERATORS),
      viewers: list(env.TICKETFLOW_VIEWERS),
      sessionSecret: env.TICKETFLOW_SESSION_SECRET || undefined,
      sessionTtlMs: integer(env, 'TICKETFLOW_SESSION_TTL_MS', 8 * 3_600_000),
    },
    alarms: alarmsConfig(env),
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

function eventsConfig(env: NodeJS.ProcessEnv): Config['events'] {
  const url = env.TICKETFLOW_EVENTS_URL || undefined;
  const secret = env.TICKETFLOW_EVENTS_SECRET || undefined;
  const events = {
    url,
    secret,
    retryMs: integer(env, 'TICKETFLOW_EVENTS_RETRY_MS', 2_000),
    maxDelayMs: integer(env, 'TICKETFLOW_EVENTS_MAX_DELAY_MS', 3_600_000),
    giveUpMs: integer(env, 'TICKETFLOW_EVENTS_GIVE_UP_MS', 24 * 3_600_000),
  };
  if (events.retryMs === 0 || events.maxDelayMs === 0) throw new ConfigError('TICKETFLOW_EVENTS_RETRY_MS and TICKETFLOW_EVENTS_MAX_DELAY_MS must be above 0');
  if (!url) {
    if (secret) throw new ConfigError('TICKETFLOW_EVENTS_SECRET is set but TICKETFLOW_EVENTS_URL is not: set the URL that receives the events, or unset the secret');
    return events;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`TICKETFLOW_EVENTS_URL is not a URL: "${url}"`);
  }
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && isLoopback(parsed.hostname))) throw new ConfigError(`TICKETFLOW_EVENTS_URL must use https (plain http only to a loopback host): ticket data and signatures would cross the network unencrypted`);
  if (parsed.username || parsed.password) throw new ConfigError('TICKETFLOW_EVENTS_URL carries credentials: the events are signed with TICKETFLOW_EVENTS_SECRET, remove them from the URL');
  if (!secret) throw new ConfigError('TICKETFLOW_EVENTS_URL is set but TICKETFLOW_EVENTS_SECRET is not: it signs the events (at least 32 bytes, e.g. openssl rand -hex 32)');
  if (Buffer.byteLength(secret) < MIN_CREDENTIAL_BYTES) throw new ConfigError(`TICKETFLOW_EVENTS_SECRET holds ${Buffer.byteLength(secret)} bytes; it needs at least ${MIN_CREDENTIAL_BYTES} (e.g. openssl rand -hex 32)`);
  return events;
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
    ...(env.DINGTALK_AGENT_ID ? { agentId: integer(env, 'DINGTALK_AGENT_ID', 0) } : {}),
  };
}

/**
 * WeCom: the corp, the approval app's secret and the callback's Token and EncodingAESKey are all needed, since
 * callbacks are WeCom's only way to say an approval moved (no long connection for approvals).
 */
function wecomConfig(env: NodeJS.ProcessEnv): NonNullable<Config['wecom']> {
  if (!env.WECOM_APP_SECRET) throw new ConfigError('WECOM_CORP_ID is set but WECOM_APP_SECRET is not: the secret of the self-built app placed in 审批 → 可调用接口的应用');
  if (!env.WECOM_TOKEN || !env.WECOM_ENCODING_AES_KEY) throw new ConfigError('WECOM_CORP_ID is set but WECOM_TOKEN or WECOM_ENCODING_AES_KEY is not: set both as in the app\'s 接收消息 → 设置API接收, whose URL is PUBLIC_URL/api/v1/wecom/callback');
  // 加解密方案说明 (https://developer.work.weixin.qq.com/document/path/90968): 43 characters of a-z, A-Z, 0-9.
  if (!/^[A-Za-z0-9]{43}$/.test(env.WECOM_ENCODING_AES_KEY)) throw new ConfigError('WECOM_ENCODING_AES_KEY must be the 43 letters and digits WeCom generated (设置API接收 → EncodingAESKey)');
  const baseUrl = (env.WECOM_BASE_URL || 'https://qyapi.weixin.qq.com').replace(/\/+$/, '');
  if (!/^https?:\/\/[^/\s]+/.test(baseUrl)) throw new ConfigError(`WECOM_BASE_URL must be an http(s) URL, got "${env.WECOM_BASE_URL}"`);
  return { corpId: env.WECOM_CORP_ID!, appSecret: env.WECOM_APP_SECRET, token: env.WECOM_TOKEN, aesKey: env.WECOM_ENCODING_AES_KEY, baseUrl };
}

/**
 * The alarm channels. A webhook must be the documented shape of its platform (https on its official host; a
 * loopback stand-in may be http) and comes with its signing secret; no message repeats the webhook's token.
 */
function alarmsConfig(env: NodeJS.ProcessEnv): Config['alarms'] {
  const hook = (name: string, raw: string | undefined, secretName: string, rawSecret: string | undefined, problem: (url: string) => string | undefined, what: string) => {
    const url = raw || undefined;
    const secret = rawSecret || undefined;
    if (!url) {
      if (secret) throw new ConfigError(`${secretName} is set but ${name} is not: set the ${what}'s webhook, or unset the secret`);
      return undefined;
    }
    const wrong = problem(url);
    if (wrong) throw new ConfigError(`${name} ${wrong}`);
    if (!secret) throw new ConfigError(`${name} is set but ${secretName} is not: turn on the ${what}'s signing (see README, "Alarms") and set its secret`);
    return { url, secret };
  };
  const dsn = env.SENTRY_DSN || undefined;
  const dsnWrong = dsn && sentryDsnProblem(dsn);
  if (dsnWrong) throw new ConfigError(`SENTRY_DSN ${dsnWrong}`);
  const calls = integer(env, 'TICKETFLOW_ALERT_IM_CALLS_PER_MONTH', 0);
  return {
    lark: hook('TICKETFLOW_ALERT_LARK_WEBHOOK', env.TICKETFLOW_ALERT_LARK_WEBHOOK, 'TICKETFLOW_ALERT_LARK_SECRET', env.TICKETFLOW_ALERT_LARK_SECRET, larkHookProblem, 'Lark custom bot'),
    dingtalk: hook('TICKETFLOW_ALERT_DINGTALK_WEBHOOK', env.TICKETFLOW_ALERT_DINGTALK_WEBHOOK, 'TICKETFLOW_ALERT_DINGTALK_SECRET', env.TICKETFLOW_ALERT_DINGTALK_SECRET, dingTalkHookProblem, 'DingTalk robot'),
    sentryDsn: dsn,
    imCallsPerMonth: calls > 0 ? calls : undefined,
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
