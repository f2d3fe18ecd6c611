#!/usr/bin/env node
// Regenerates src/pipeline/pipeline.generated.ts from schemas/pipeline.schema.json.
import { register } from 'tsx/esm/api';
register();
const { writePipelineType } = await import('../src/pipeline/pipeline-type-file.ts');
await writePipelineType();
