import type { Pool } from 'pg';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import { SourceFile } from '../pipeline/source.ts';
import { getPipelineVersion } from '../store/sql/get-pipeline-version.ts';
import { insertPipelineVersion, type NewVersion } from '../store/sql/insert-pipeline-version.ts';
import { listPipelineVersions, type StoredVersion } from '../store/sql/list-pipeline-versions.ts';

/**
 * Every stored pipeline version, for tickets that finish on the version they started on: what the table records
 * of each, and the pipeline itself — a live one as its load produced it, an older one read and parsed once.
 */
export class PipelineVersions {
  private readonly records = new Map<string, StoredVersion>();
  private readonly pipelines = new Map<string, Promise<Pipeline>>();

  constructor(private readonly pool: Pool) {}

  /** What the table records, by `name@version`, as of the last `refresh` and this process's own `store`s. */
  get recorded(): ReadonlyMap<string, StoredVersion> {
    return this.records;
  }

  /** Reads the versions other replicas stored since. */
  async refresh(): Promise<void> {
    for (const v of await listPipelineVersions(this.pool)) this.records.set(versionKey(v.name, v.version), v);
  }

  isStored(name: string, version: number): boolean {
    return this.records.has(versionKey(name, version));
  }

  /** Records a version; returns the hash stored for it, which differs when another replica stored other content. */
  async store(v: NewVersion): Promise<string> {
    const saved = await insertPipelineVersion(this.pool, v);
    this.records.set(versionKey(v.name, v.version), { name: v.name, version: v.version, contentHash: saved.contentHash, provider: v.provider, definitionCode: v.definitionCode, firstLoadedAt: saved.firstLoadedAt });
    return saved.contentHash;
  }

  /** A version a load made live: it is served as the very object that load produced. */
  putLive(pipeline: Pipeline): void {
    this.pipelines.set(versionKey(pipeline.metadata.name, pipeline.metadata.version), Promise.resolve(pipeline));
  }

  /** Some stored version handles this definition. */
  handlesDefinition(provider: string, code: string): boolean {
    for (const v of this.records.values()) if (v.provider === provider && v.definitionCode === code) return true;
    return false;
  }

  get(name: string, version: number): Promise<Pipeline> {
    const key = versionKey(name, version);
    const known = this.pipelines.get(key);
    if (known) return known;
    const reading = this.read(name, version);
    this.pipelines.set(key, reading);
    // A failed read is not kept: the next call tries again.
    reading.catch(() => this.pipelines.get(key) === reading && this.pipelines.delete(key));
    return reading;
  }

  private async read(name: string, version: number): Promise<Pipeline> {
    const key = versionKey(name, version);
    const stored = await getPipelineVersion(this.pool, name, version);
    if (!stored) throw new Error(`pipeline ${key} is not stored`);
    // Stored versions were valid when loaded: the source is the pipeline.
    const file = new SourceFile(`${name}.yaml`, stored.source);
    const problem = file.syntaxProblems[0];
    if (problem) throw new Error(`pipeline ${key} as stored cannot be read: ${problem.line}:${problem.col}: ${problem.message}`);
    return file.toJS() as Pipeline;
  }
}

function versionKey(name: string, version: number): string {
  return `${name}@${version}`;
}
