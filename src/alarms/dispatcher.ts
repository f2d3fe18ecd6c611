import type { Pool } from 'pg';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { claimAlarm } from '../store/sql/claim-alarm.ts';
import { claimSend } from '../store/sql/claim-send.ts';
import { forgetAlarmClaims } from '../store/sql/forget-alarm-claims.ts';
import type { Alarm, Alarms } from './alarm.ts';
import { clip, type AlarmChannel, type AlarmMessage, type SendResult } from './channel.ts';
import { stormSummary, type Queued } from './summary.ts';

/** How the dispatcher paces and folds (README, "Alarms"); tests shorten them. */
export interface AlarmTuning {
  /** The same (kind, key) raised again within this is not sent again. */
  dedupWindowMs: number;
  /** A channel with nothing in flight waits this long after an alarm before sending, so a burst becomes one summary. */
  gatherMs: number;
  /** More than this many alarms waiting for a channel's next send: they go as one summary. */
  burst: number;
  /** This many alarms sent one by one on a channel within `stormWindowMs`: what follows goes as summaries. */
  stormLimit: number;
  stormWindowMs: number;
  /** Two summaries on a channel are at least this far apart (what arrives meanwhile waits for the next). */
  summaryEveryMs: number;
  /** Waits between the attempts of a failed send (its length + 1 attempts in all). */
  retryDelaysMs: number[];
  /** Alarms waiting per channel at most; past it they are dropped (counted). */
  queueLimit: number;
  /** At stop, how long what waits may take to go out. */
  stopGraceMs: number;
}

export const defaultTuning: AlarmTuning = {
  dedupWindowMs: 10 * 60_000,
  gatherMs: 500,
  burst: 3,
  stormLimit: 10,
  stormWindowMs: 5 * 60_000,
  summaryEveryMs: 60_000,
  retryDelaysMs: [2_000, 10_000],
  queueLimit: 1_000,
  stopGraceMs: 3_000,
};

export type AlarmOutcome = 'sent' | 'folded' | 'failed' | 'dropped';

export interface DispatcherOptions {
  channels: readonly AlarmChannel[];
  log: Logger;
  metrics?: Pick<Metrics, 'alarms'>;
  /** The console's address (PUBLIC_URL): alarm links given as paths are made absolute with it. */
  consoleUrl: string;
  /**
   * Shared with the other replicas: an alarm's (kind, key) is claimed in PostgreSQL (one replica sends it per
   * window), and each channel's spacing holds for all replicas together. Without it, both hold per process.
   */
  pool?: Pool;
  tuning?: Partial<AlarmTuning>;
  now?: () => number;
}

/** How often claims whose window ended are deleted (by whichever replica raises an alarm then). */
const FORGET_EVERY_MS = 3_600_000;
/** A message the platform asked to hold back this many times is given up. */
const MAX_PAUSES = 3;

/**
 * The alarms of the runtime (the `Alarms` every part raises through): each alarm goes to every configured channel
 * (Lark bot, DingTalk robot, Sentry). `raise` never throws and never waits. Repeats of a (kind, key) within
 * `dedupWindowMs` are dropped — across replicas when there is a database; each channel sends one message at a time,
 * spaced well below its platform's limit; a burst or a long run of alarms goes as one summary instead of a flood; a
 * failed send is retried with backoff, then logged (once per run of failures, so an unreachable channel does not
 * flood the log either). Counted in `ticketflow_alarms_total{kind, channel, outcome}`.
 */
export class AlarmDispatcher implements Alarms {
  private readonly tuning: AlarmTuning;
  private readonly now: () => number;
  private readonly lanes: Lane[];
  private readonly seen = new Map<string, number>();
  private readonly claims = new Set<Promise<void>>();
  private lastForget = 0;
  private stopped = false;

  constructor(private readonly options: DispatcherOptions) {
    this.tuning = { ...defaultTuning, ...options.tuning };
    this.now = options.now ?? Date.now;
    this.lanes = options.channels.map((c) => new Lane(c, this.tuning, this.now, options));
  }

  get channels(): string[] {
    return this.lanes.map((l) => l.channel.name);
  }

  raise(alarm: Alarm): void {
    try {
      if (this.stopped) {
        this.count(alarm.kind, 'dropped');
        return;
      }
      const now = this.now();
      const id = `${alarm.kind}\u0000${alarm.key}`;
      if ((this.seen.get(id) ?? 0) > now) {
        this.count(alarm.kind, 'dropped');
        this.options.log.debug({ kind: alarm.kind, key: alarm.key }, 'alarm repeated within its de-duplication window: not sent again');
        return;
      }
      this.seen.set(id, now + this.tuning.dedupWindowMs);
      if (this.seen.size > 1_000) for (const [k, until] of this.seen) if (until <= now) this.seen.delete(k);
      const message = this.message(alarm);
      const pool = this.options.pool;
      if (!pool) return this.enqueue(message, now);
      const claim = claimAlarm(pool, alarm.kind, alarm.key, this.tuning.dedupWindowMs)
        .then(
          (first) => {
            if (first) return this.enqueue(message, now);
            this.count(alarm.kind, 'dropped');
            this.options.log.debug({ kind: alarm.kind, key: alarm.key }, 'alarm already sent by another replica within its window');
          },
          // Without the database an alarm may go twice, but it goes.
          () => this.enqueue(message, now),
        )
        .finally(() => this.claims.delete(claim));
      this.claims.add(claim);
      if (now - this.lastForget > FORGET_EVERY_MS) {
        this.lastForget = now;
        void forgetAlarmClaims(pool).catch(() => undefined);
      }
    } catch (e) {
      this.options.log.warn({ err: (e as Error)?.message, kind: alarm?.kind }, 'an alarm could not be raised');
    }
  }

  /** Sends what waits (within the grace), then drops the rest, flushes and closes the channels. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const grace = sleep(this.tuning.stopGraceMs);
    await Promise.race([Promise.allSettled([...this.claims]), grace.done]);
    await Promise.race([Promise.all(this.lanes.map((l) => l.flush())), grace.done]);
    grace.cancel();
    for (const lane of this.lanes) lane.abandon();
    await Promise.all(this.lanes.map((l) => l.channel.close?.(2_000).catch(() => undefined)));
  }

  private enqueue(message: AlarmMessage, at: number): void {
    for (const lane of this.lanes) lane.push({ message, at, pauses: 0 });
  }

  private count(kind: string, outcome: AlarmOutcome): void {
    for (const lane of this.lanes) this.options.metrics?.alarms.inc({ kind, channel: lane.channel.name, outcome });
  }

  private message(alarm: Alarm): AlarmMessage {
    const base = this.options.consoleUrl.replace(/\/+$/, '');
    const link = !alarm.link ? `${base}/` : alarm.link.startsWith('/') ? `${base}${alarm.link}` : alarm.link;
    return {
      kind: alarm.kind,
      key: alarm.key,
      title: clip(String(alarm.title), 200),
      text: clip(String(alarm.text), 4_000),
      link,
      ...(alarm.pipeline && { pipeline: alarm.pipeline }),
      ...(alarm.error !== undefined && { error: alarm.error }),
    };
  }
}

type Waiting = Queued & { pauses: number };

/** One channel's queue, pace and failures. */
class Lane {
  private queue: Waiting[] = [];
  /** When alarms were last sent one by one (within the storm window). */
  private singles: number[] = [];
  private lastSendAt = -Infinity;
  private lastSummaryAt = -Infinity;
  private pausedUntil = 0;
  private busy = false;
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  private flushing = false;
  private abandoned = false;
  private readonly sleeping = new Set<() => void>();
  private idle: Array<() => void> = [];

  constructor(
    readonly channel: AlarmChannel,
    private readonly tuning: AlarmTuning,
    private readonly now: () => number,
    private readonly options: DispatcherOptions,
  ) {}

  push(item: Waiting): void {
    if (this.abandoned || this.queue.length >= this.tuning.queueLimit) {
      this.count(item.message.kind, 'dropped');
      return;
    }
    this.queue.push(item);
    this.schedule();
  }

  /** Sends what waits now, without waiting for the pace (stop). */
  flush(): Promise<void> {
    this.flushing = true;
    for (const wake of this.sleeping) wake();
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.busy && this.queue.length === 0) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.idle.push(resolve));
    void this.pump();
    return done;
  }

  /** Gives up what still waits (counted as dropped) and every timer. */
  abandon(): void {
    this.abandoned = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const wake of this.sleeping) wake();
    for (const item of this.queue.splice(0)) this.count(item.message.kind, 'dropped');
  }

  private storming(now: number): boolean {
    this.singles = this.singles.filter((t) => t > now - this.tuning.stormWindowMs);
    return this.queue.length > this.tuning.burst || this.singles.length >= this.tuning.stormLimit;
  }

  /** When the next send may go. */
  private dueAt(now: number): number {
    if (this.flushing) return now;
    const oldest = this.queue[0]?.at ?? now;
    let due = Math.max(this.lastSendAt + this.channel.spacingMs, this.pausedUntil, oldest + this.tuning.gatherMs);
    if (this.storming(now)) due = Math.max(due, this.lastSummaryAt + this.tuning.summaryEveryMs);
    return due;
  }

  private schedule(): void {
    if (this.busy || this.timer || this.abandoned || this.queue.length === 0) return;
    const now = this.now();
    const wait = Math.max(0, this.dueAt(now) - now);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.pump();
    }, wait);
    this.timer.unref();
  }

  private async pump(): Promise<void> {
    if (this.busy || this.abandoned) return;
    this.busy = true;
    try {
      while (this.queue.length > 0 && !this.abandoned) {
        const now = this.now();
        if (this.dueAt(now) > now) break;
        if (this.options.pool && !this.flushing) {
          // The pace holds for every replica together: one send per spacing on the database clock.
          const gate = await claimSend(this.options.pool, `alarm_channel:${this.channel.name}`, this.channel.spacingMs).catch(() => undefined);
          if (gate && 'waitMs' in gate) {
            this.pausedUntil = Math.max(this.pausedUntil, this.now() + gate.waitMs);
            break;
          }
        }
        const storm = this.storming(now);
        const batch = storm ? this.queue.splice(0) : [this.queue.shift()!];
        // A storm that left one alarm waiting sends that alarm itself, with its own link.
        const message = storm && batch.length > 1 ? stormSummary(batch, now, this.options.consoleUrl.replace(/\/+$/, '')) : batch[0]!.message;
        this.lastSendAt = now;
        if (storm) this.lastSummaryAt = now;
        else this.singles.push(now);
        const result = await this.deliver(message);
        if (result.ok === 'paused') {
          const kept = batch.filter((item) => ++item.pauses < MAX_PAUSES);
          for (const item of batch) if (item.pauses >= MAX_PAUSES) this.count(item.message.kind, 'failed');
          this.queue.unshift(...kept);
          continue;
        }
        if (storm) {
          for (const item of batch) this.count(item.message.kind, 'folded');
          this.count('storm', result.ok ? 'sent' : 'failed');
        } else {
          this.count(message.kind, result.ok ? 'sent' : 'failed');
        }
      }
    } finally {
      this.busy = false;
      if (this.queue.length > 0 && !this.abandoned) this.schedule();
      if (this.flushing && (this.queue.length === 0 || this.abandoned)) for (const done of this.idle.splice(0)) done();
    }
  }

  /** One message, with its retries. Never throws. */
  private async deliver(message: AlarmMessage): Promise<{ ok: boolean | 'paused' }> {
    const { log } = this.options;
    const attempts = this.tuning.retryDelaysMs.length + 1;
    for (let attempt = 1; ; attempt++) {
      let result: SendResult;
      try {
        result = await this.channel.send(message);
      } catch (e) {
        result = { ok: false, retry: true, reason: (e as Error)?.message ?? String(e) };
      }
      if (result.ok) {
        if (this.failing) log.info({ channel: this.channel.name }, `alarms reach ${this.channel.name} again`);
        this.failing = false;
        log.debug({ channel: this.channel.name, kind: message.kind, key: message.key }, 'alarm sent');
        return { ok: true };
      }
      if (result.pauseMs && !this.flushing && !this.abandoned) {
        this.pausedUntil = this.now() + result.pauseMs;
        log.warn({ channel: this.channel.name, pause_ms: result.pauseMs, reason: result.reason }, `${this.channel.name} asks to hold back alarms; the next send waits ${Math.round(result.pauseMs / 1000)} s`);
        return { ok: 'paused' };
      }
      if (!result.retry || attempt >= attempts || this.flushing || this.abandoned) {
        const fields = { channel: this.channel.name, kind: message.kind, key: message.key, attempts: attempt, reason: result.reason };
        if (this.failing) log.debug(fields, 'alarm not sent');
        else log.error(fields, `an alarm could not be sent to ${this.channel.name} (${attempt} attempt${attempt === 1 ? '' : 's'}): ${result.reason}; until a send succeeds, further failures of this channel are logged at debug level only`);
        this.failing = true;
        return { ok: false };
      }
      const wait = sleep(this.tuning.retryDelaysMs[attempt - 1]!);
      this.sleeping.add(wait.cancel);
      await wait.done;
      this.sleeping.delete(wait.cancel);
    }
  }

  private count(kind: string, outcome: AlarmOutcome): void {
    this.options.metrics?.alarms.inc({ kind, channel: this.channel.name, outcome });
  }
}

/** A wait that never holds the process open and can be cut short. */
function sleep(ms: number): { done: Promise<void>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  let wake!: () => void;
  const done = new Promise<void>((resolve) => {
    wake = resolve;
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  return {
    done,
    cancel: () => {
      clearTimeout(timer);
      wake();
    },
  };
}
