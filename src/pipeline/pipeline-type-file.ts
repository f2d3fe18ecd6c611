import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { generatePipelineType } from './pipeline-type.ts';
import { pipelineSchema } from './schema.ts';

export const pipelineTypePath = fileURLToPath(new URL('./pipeline.generated.ts', import.meta.url));

export async function writePipelineType(): Promise<void> {
  await writeFile(pipelineTypePath, await generatePipelineType(pipelineSchema));
}

export async function pipelineTypeIsCurrent(): Promise<boolean> {
  const [current, expected] = await Promise.all([readFile(pipelineTypePath, 'utf8'), generatePipelineType(pipelineSchema)]);
  return current === expected;
}
