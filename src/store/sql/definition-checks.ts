import type { Pool } from 'pg';
import { definitionCheckRow, type DefinitionCheckRow } from './record-definition-check.ts';

/** Every pipeline's last drift-watch verdict (for the console and the metric). */
export async function definitionChecks(pool: Pool): Promise<DefinitionCheckRow[]> {
  const { rows } = await pool.query(`SELECT * FROM definition_checks ORDER BY pipeline`);
  return rows.map(definitionCheckRow);
}
