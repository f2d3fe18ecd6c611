import type { Pool } from 'pg';
import { definitionCheckRow, type DefinitionCheckRow } from './record-definition-check.ts';

/** One pipeline's last drift-watch verdict, if it was ever checked. */
export async function getDefinitionCheck(pool: Pool, pipeline: string): Promise<DefinitionCheckRow | undefined> {
  const { rows } = await pool.query(`SELECT * FROM definition_checks WHERE pipeline = $1`, [pipeline]);
  return rows[0] ? definitionCheckRow(rows[0]) : undefined;
}
