import type { Pool } from 'pg';
import type { Finding } from '../../doctor/diagnose.ts';
import { inTransaction } from '../transaction.ts';

/** The drift watch's last verdict on one pipeline (table `definition_checks`). */
export interface DefinitionCheckRow {
  pipeline: string;
  /** The pipeline version checked. */
  version: number;
  provider: string;
  definitionCode: string;
  status: 'match' | 'drift';
  findings: Finding[];
  /** When the current status began. */
  since: Date;
  /** When the last check that read the definition started. */
  checkedAt: Date;
}

export type DefinitionCheckWrite = Omit<DefinitionCheckRow, 'since'>;

/**
 * Records a verdict and returns the one it replaces, under a lock per pipeline, so that of two replicas checking
 * at once one sees the other's verdict as the previous one (a drift is announced once). `since` is kept while the
 * status stays the same. A verdict read before the stored one (an older check finishing late) changes nothing:
 * `current` is then the stored row.
 */
export async function recordDefinitionCheck(pool: Pool, write: DefinitionCheckWrite): Promise<{ previous?: DefinitionCheckRow; current: DefinitionCheckRow }> {
  return inTransaction(pool, async (db) => {
    await db.query(`SELECT pg_advisory_xact_lock(hashtextextended('ticketflow:definition_check:' || $1, 0))`, [write.pipeline]);
    const before = await db.query(`SELECT * FROM definition_checks WHERE pipeline = $1`, [write.pipeline]);
    const { rows } = await db.query(
      `INSERT INTO definition_checks AS d (pipeline, version, provider, definition_code, status, findings, since, checked_at)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $7)
       ON CONFLICT (pipeline) DO UPDATE SET version = excluded.version, provider = excluded.provider, definition_code = excluded.definition_code,
         status = excluded.status, findings = excluded.findings, checked_at = excluded.checked_at,
         since = CASE WHEN d.status = excluded.status THEN d.since ELSE excluded.since END
       WHERE d.checked_at <= excluded.checked_at
       RETURNING *`,
      [write.pipeline, write.version, write.provider, write.definitionCode, write.status, JSON.stringify(write.findings), write.checkedAt],
    );
    const previous = before.rows[0] ? definitionCheckRow(before.rows[0]) : undefined;
    return { previous, current: rows[0] ? definitionCheckRow(rows[0]) : previous! };
  });
}

export function definitionCheckRow(r: Record<string, unknown>): DefinitionCheckRow {
  return {
    pipeline: r.pipeline as string,
    version: r.version as number,
    provider: r.provider as string,
    definitionCode: r.definition_code as string,
    status: r.status as DefinitionCheckRow['status'],
    findings: r.findings as Finding[],
    since: r.since as Date,
    checkedAt: r.checked_at as Date,
  };
}
