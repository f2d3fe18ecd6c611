import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const schemaPath = fileURLToPath(new URL('../../schemas/pipeline.schema.json', import.meta.url));

/** The pipeline JSON Schema, the single source of truth for pipeline files. */
export const pipelineSchema: Record<string, unknown> = JSON.parse(readFileSync(schemaPath, 'utf8'));

/** The closed list of field types, as the schema declares it. */
export const fieldTypes: ReadonlySet<string> = new Set(
  (pipelineSchema as { definitions: { FieldType: { enum: string[] } } }).definitions.FieldType.enum,
);
