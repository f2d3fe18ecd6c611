import type { IntakeOutcome } from '../intake/take-event.ts';
import { HttpError } from './errors.ts';

/** The answer to an IM callback whose event the intake did not keep: 400 if it never can be stored, 503 to be retried. */
export function intakeError(outcome: IntakeOutcome): HttpError | undefined {
  if (outcome.kind === 'unstorable') return new HttpError(400, 'unstorable', `the event cannot be stored: ${outcome.message}`);
  if (outcome.kind === 'unavailable') return new HttpError(503, 'database_unavailable', 'the event could not be stored; retry later');
  return undefined;
}
