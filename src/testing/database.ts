import { scratchDatabase, type ScratchDatabase } from '../store/scratch-database.ts';

export type TestDatabase = ScratchDatabase;

/** A fresh, empty PostgreSQL database for one test file (never an imitation): see `scratchDatabase`. */
export function testDatabase(): Promise<TestDatabase> {
  return scratchDatabase('tf_test');
}
