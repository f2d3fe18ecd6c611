import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import { pascalCase, pipelineRequestType } from '../pipeline/client-types.ts';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import type { RequestTypeDiff } from './model.ts';

/** A unified diff of the generated request type from `base` (none: a new pipeline) to `head`. */
export async function requestTypeDiff(head: Pipeline, base?: Pipeline): Promise<RequestTypeDiff> {
  const type = `${pascalCase(head.metadata.name)}Request`;
  let before: string;
  let after: string;
  try {
    after = await pipelineRequestType(head);
    // The version is only named in a comment; the same number on both sides keeps it out of the diff.
    before = base ? await pipelineRequestType({ ...base, metadata: { ...base.metadata, version: head.metadata.version } }) : '';
  } catch (e) {
    return { status: 'unavailable', reason: `the request type could not be generated: ${(e as Error).message}` };
  }
  if (before === after) return { status: 'unchanged', type };
  const from = base ? `${type} v${base.metadata.version}` : '(new pipeline)';
  const diff = createTwoFilesPatch(from, `${type} v${head.metadata.version}`, before, after, undefined, undefined, { context: 3, headerOptions: FILE_HEADERS_ONLY });
  return { status: 'changed', type, diff: diff.trimEnd() };
}
