import type { Pool } from 'pg';
import { SourceFile } from '../pipeline/source.ts';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import { getPipelineVersion } from '../store/sql/pipeline-versions.ts';

/** Any stored pipeline version, for tickets that finish on the version they started on. */
export class PipelineVersions {
  private readonly cache = new Map<string, Pipeline>();

  constructor(private readonly pool: Pool) {}

  remember(pipeline: Pipeline): void {
    this.cache.set(`${pipeline.metadata.name}@${pipeline.metadata.version}`, pipeline);
  }

  async get(name: string, version: number): Promise<Pipeline> {
    const key = `${name}@${version}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const stored = await getPipelineVersion(this.pool, name, version);
    if (!stored) throw new Error(`pipeline ${key} is not stored`);
    // Stored versions were valid when loaded: the source is the pipeline.
    const file = new SourceFile(`${name}.yaml`, stored.source);
    const problem = file.syntaxProblems[0];
    if (problem) throw new Error(`pipeline ${key} as stored cannot be read: ${problem.line}:${problem.col}: ${problem.message}`);
    const pipeline = file.toJS() as Pipeline;
    this.cache.set(key, pipeline);
    return pipeline;
  }
}
