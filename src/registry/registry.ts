import { relative } from 'node:path';
import chokidar, { type FSWatcher } from 'chokidar';
import type { Pool } from 'pg';
import { checkPipelines, type CheckOptions, type CheckResult, type PipelineSource } from '../pipeline/check.ts';
import { formatText, type Diagnostic } from '../pipeline/diagnostic.ts';
import { collectPipelineFiles, isPipelineFile } from '../pipeline/files.ts';
import { readFile } from 'node:fs/promises';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import { SourceFile } from '../pipeline/source.ts';
import type { Alarm, Alarms } from '../alarms/alarm.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { contentHash, processCodePresent, secretPresent, versionNotReused } from './runtime-rules.ts';
import { PipelineVersions } from './versions.ts';

export interface LivePipeline {
  name: string;
  version: number;
  pipeline: Pipeline;
  file: string;
  contentHash: string;
}

export interface RegistryOptions {
  dir: string;
  pool: Pool;
  log: Logger;
  metrics: Metrics;
  env: (name: string) => string | undefined;
  /** Called after every load that changed what is live. */
  onLive?: (live: readonly LivePipeline[]) => void;
  /** A file that starts failing to load, or fails differently, raises `pipeline_load_error` (keyed by the file). */
  alarms?: Alarms;
  debounceMs?: number;
}

export function definitionCode(p: Pipeline): string {
  return p.provider.approval_code ?? p.provider.process_code ?? p.provider.template_id ?? '';
}

/**
 * The pipelines live in this process. Loads PIPELINES_DIR with the same code as `ticketflow validate` (plus the
 * run-time checks: secret present, version not reused), keeps the last good version of a file whose change is
 * invalid, records every distinct version in the database, and reloads on every change chokidar reports.
 */
export class PipelineRegistry {
  /** Every stored version, the live ones as this registry loaded them. */
  readonly versions: PipelineVersions;
  private live = new Map<string, LivePipeline>();
  private errors = new Map<string, Diagnostic[]>();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private loading: Promise<void> | undefined;
  private again = false;
  private loads = 0;
  /** The folder has been read at least once (a missing or mistyped PIPELINES_DIR never was). */
  private folderRead = false;

  constructor(private readonly options: RegistryOptions) {
    this.versions = new PipelineVersions(options.pool);
  }

  async start(): Promise<void> {
    await this.reload();
    this.watcher = chokidar.watch(this.options.dir, {
      ignoreInitial: true,
      ignored: (path, stats) => Boolean(stats?.isFile() && !isPipelineFile(path)),
      awaitWriteFinish: { stabilityThreshold: 50, pollInterval: 10 },
    });
    this.watcher.on('all', () => this.schedule());
    await new Promise<void>((resolve) => this.watcher!.once('ready', () => resolve()));
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await this.watcher?.close();
    await this.loading;
  }

  pipelines(): LivePipeline[] {
    return [...this.live.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): LivePipeline | undefined {
    return this.live.get(name);
  }

  byDefinition(provider: string, code: string): LivePipeline | undefined {
    return [...this.live.values()].find((p) => p.pipeline.provider.type === provider && definitionCode(p.pipeline) === code);
  }

  /** A definition some version of some pipeline handles (live or not): its events must be kept. */
  knowsDefinition(provider: string, code: string): boolean {
    return this.byDefinition(provider, code) !== undefined || this.versions.handlesDefinition(provider, code);
  }

  /** Errors of the last load, per file: the last good version of those files stays live. */
  loadErrors(): Diagnostic[] {
    return [...this.errors.values()].flat();
  }

  /** Nothing can work: PIPELINES_DIR was never readable, so no pipeline was ever loaded. */
  get nothingLoaded(): boolean {
    return !this.folderRead && this.live.size === 0;
  }

  /** How many loads have completed (tests wait on it). */
  get loadCount(): number {
    return this.loads;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reload().catch((e) => this.options.log.error({ err: e }, 'pipeline reload failed')), this.options.debounceMs ?? 30);
  }

  /** Rescans the whole folder; concurrent requests coalesce into one more pass. */
  async reload(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      try {
        do {
          this.again = false;
          await this.loadOnce();
        } while (this.again);
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  private async loadOnce(): Promise<void> {
    const { dir, log, metrics } = this.options;
    await this.versions.refresh();
    let files: string[];
    try {
      files = await collectPipelineFiles([dir]);
    } catch (e) {
      // A missing or mistyped PIPELINES_DIR is not an empty set: the last good pipelines stay live, and it is said.
      const path = displayPath(dir);
      const failure = fileFailure(path, 'pipelines-dir', `PIPELINES_DIR cannot be read (${(e as Error).message}); the last good pipelines stay live`);
      if (this.errors.get(path)?.[0]?.message !== failure.message) {
        log.error({ rule: failure.rule, dir }, formatText(failure));
        this.options.alarms?.raise(loadErrorAlarm(path, [failure]));
      }
      this.errors = new Map([[path, [failure]]]);
      metrics.pipelineLoads.inc({ result: 'error' });
      metrics.pipelineLoadErrors.set(1);
      this.loads++;
      // The watcher may not see a folder that does not exist yet: look again shortly.
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.schedule(), 5_000).unref();
      return;
    }
    this.folderRead = true;
    const errors = new Map<string, Diagnostic[]>();
    const sources: PipelineSource[] = [];
    for (const file of files) {
      const path = displayPath(file);
      try {
        sources.push({ path, text: await readFile(file, 'utf8') });
      } catch (e) {
        // Removed since the folder was listed: the next change event reloads without it.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') errors.set(path, [fileFailure(path, 'unreadable', `the file cannot be read: ${(e as Error).message}`)]);
      }
    }
    const result = checkIsolated(sources, { extraRules: [secretPresent(this.options.env), versionNotReused(this.versions.recorded), processCodePresent] }, errors);

    const next = new Map<string, LivePipeline>();
    for (const checked of result.files) {
      const path = checked.source.path;
      for (const w of checked.diagnostics.filter((d) => d.severity === 'warning')) log.warn({ rule: w.rule }, formatText(w));
      const p = checked.pipeline;
      if (p) {
        const hash = contentHash(checked.source.text);
        const name = p.metadata.name;
        const version = p.metadata.version;
        if (!this.versions.isStored(name, version)) {
          const storedHash = await this.versions.store({ name, version, contentHash: hash, source: checked.source.text, file: path, provider: p.provider.type, definitionCode: definitionCode(p) });
          if (storedHash !== hash) {
            errors.set(path, [versionRace(path, checked.file!.locate(['metadata', 'version'], 'value'), name, version)]);
            continue;
          }
        }
        this.versions.putLive(p);
        next.set(name, { name, version, pipeline: p, file: path, contentHash: hash });
      } else {
        errors.set(path, checked.diagnostics.filter((d) => d.severity === 'error'));
      }
    }
    // A file whose change failed keeps its last good pipeline live.
    for (const [path] of errors) {
      for (const previous of this.live.values()) {
        if (previous.file === path && !next.has(previous.name)) next.set(previous.name, previous);
      }
    }

    const changed = describeChanges(this.live, next);
    for (const d of [...errors.values()].flat()) log.error({ rule: d.rule, file: d.file, line: d.line, col: d.col }, `pipeline not loaded: ${formatText(d)}`);
    for (const [path, diagnostics] of errors) {
      const said = (list: Diagnostic[] | undefined) => (list ?? []).map(formatText).join('\n');
      if (said(this.errors.get(path)) !== said(diagnostics)) this.options.alarms?.raise(loadErrorAlarm(path, diagnostics));
    }
    for (const line of changed) log.info(line);
    metrics.pipelineLoads.inc({ result: errors.size > 0 ? 'error' : 'ok' });
    metrics.pipelineLoadErrors.set(errors.size);
    metrics.pipelinesLive.set(next.size);
    this.live = next;
    this.errors = errors;
    this.loads++;
    if (changed.length > 0) this.options.onLive?.(this.pipelines());
  }
}

/**
 * Parses each file once and checks them together (the set rules need them all). A file that makes the parser
 * throw, or the checker (found by checking each alone), gets that failure as its load error, and the others are
 * checked without it.
 */
function checkIsolated(files: PipelineSource[], options: CheckOptions, errors: Map<string, Diagnostic[]>): CheckResult {
  const sources = files.flatMap((file) => {
    try {
      return [new SourceFile(file.path, file.text)];
    } catch (e) {
      errors.set(file.path, [uncheckable(file.path, e)]);
      return [];
    }
  });
  try {
    return checkPipelines(sources, options);
  } catch {
    const healthy = sources.filter((source) => {
      try {
        checkPipelines([source], options);
        return true;
      } catch (e) {
        errors.set(source.path, [uncheckable(source.path, e)]);
        return false;
      }
    });
    try {
      return checkPipelines(healthy, options);
    } catch (e) {
      for (const source of healthy) errors.set(source.path, [fileFailure(source.path, 'load-failed', `the pipelines could not be checked together: ${(e as Error)?.message ?? String(e)}`)]);
      return { files: [], diagnostics: [], errorCount: 0, warningCount: 0 };
    }
  }
}

/** The alarm of a pipeline file that does not load: its errors as `validate` prints them; the console's pipelines page. */
function loadErrorAlarm(file: string, diagnostics: readonly Diagnostic[]): Alarm {
  const shown = diagnostics.slice(0, 10).map(formatText);
  return {
    kind: 'pipeline_load_error',
    key: file,
    title: `Pipeline file ${file} does not load`,
    text: [...shown, ...(diagnostics.length > shown.length ? [`… and ${diagnostics.length - shown.length} more`] : []), 'The last good version of the file stays live; fix the file (npx ticketflow validate).'].join('\n'),
    link: '/pipelines',
  };
}

function fileFailure(file: string, rule: string, message: string): Diagnostic {
  return { file, line: 1, col: 1, severity: 'error', rule, message };
}

function uncheckable(file: string, e: unknown): Diagnostic {
  return fileFailure(file, 'load-failed', `the file could not be checked: ${(e as Error)?.message ?? String(e)}`);
}

function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

function versionRace(file: string, at: { line: number; col: number }, name: string, version: number): Diagnostic {
  return { file, line: at.line, col: at.col, severity: 'error', rule: 'version-reuse', message: `version ${version} of pipeline "${name}" was just stored with other content by another replica; raise metadata.version` };
}

function describeChanges(before: Map<string, LivePipeline>, after: Map<string, LivePipeline>): string[] {
  const lines: string[] = [];
  for (const [name, p] of after) {
    const old = before.get(name);
    if (!old) lines.push(`pipeline ${name} v${p.version} is live (${p.file})`);
    else if (old.contentHash !== p.contentHash) lines.push(`pipeline ${name} v${old.version} → v${p.version} is live (${p.file})`);
  }
  for (const name of before.keys()) if (!after.has(name)) lines.push(`pipeline ${name} is no longer live (its file was removed or renamed it); its versions stay stored`);
  return lines;
}
