/**
 * The finance service behind `travel-expense` (pipelines/travel-expense.yaml): checks the claim against the
 * per-line limits and the cost center's budget, and after approval books the payment, confirming once the bank
 * accepted it (an async stage).
 */
import type { TicketResult, TravelExpenseRequest } from '../generated/index.ts';
import type { ExampleApp } from './example-app.ts';

/** The most one line of a category may claim, in CNY. */
const LINE_LIMITS = { transport: 3_000, lodging: 1_000, meals: 300 } as const;
const BUDGET_PER_CLAIM = 20_000;

export function financeService(): ExampleApp {
  const cents = (value: number) => Math.round(value * 100);

  const budgetCheck = (r: TravelExpenseRequest): TicketResult => {
    const { total, lines } = r.fields;
    const refuse = (error: string): TicketResult => ({ ticket_id: r.ticket_id, result: false, error });
    const sum = lines.reduce((s, l) => s + cents(l.amount.value), 0);
    if (sum !== cents(total.value)) return refuse(`The total (${total.value} ${total.currency}) is not the sum of the lines (${sum / 100} ${total.currency}).`);
    const over = lines.find((l) => l.amount.value > LINE_LIMITS[l.category]);
    if (over) return refuse(`A ${over.category} line of ${over.amount.value} ${total.currency} is over its limit of ${LINE_LIMITS[over.category]}.`);
    if (total.value > BUDGET_PER_CLAIM) return refuse(`${total.value} ${total.currency} is over the ${BUDGET_PER_CLAIM} a claim may take from the budget of ${r.fields.cost_center.id}.`);
    return { ticket_id: r.ticket_id, result: true, msg: `Within budget: ${total.value} ${total.currency} on cost center ${r.fields.cost_center.id}.` };
  };

  const pay = (r: TravelExpenseRequest): TicketResult => ({ ticket_id: r.ticket_id, result: true, msg: `Paid ${r.fields.total.value} ${r.fields.total.currency} to ${r.applicant.user_id}.` });

  return {
    pipeline: 'travel-expense',
    secretEnv: 'TICKETFLOW_SECRET_TRAVEL_EXPENSE',
    host: 'finance.example.com',
    stages: { '/ticketflow/budget-check': budgetCheck, '/ticketflow/pay': pay },
  };
}
