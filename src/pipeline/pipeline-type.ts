import { compile } from 'json-schema-to-typescript';
import type { JSONSchema4 } from 'json-schema';

export const pipelineTypeBanner = `/* Generated from schemas/pipeline.schema.json by \`npm run gen:pipeline-type\`. Do not edit by hand. */`;

/** The engine's own `Pipeline` type, generated from the JSON Schema so the two can never disagree. */
export async function generatePipelineType(schema: object): Promise<string> {
  return compile(schema as JSONSchema4, 'Pipeline', {
    bannerComment: pipelineTypeBanner,
    additionalProperties: false,
    style: { singleQuote: true, printWidth: 120 },
  });
}
