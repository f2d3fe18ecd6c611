import { benchConsole } from './console.ts';
import { benchIntake } from './intake.ts';
import { benchReconcile } from './reconcile.ts';
import { benchTickets } from './tickets.ts';
import { benchValidation } from './validation.ts';

const parts: Record<string, () => Promise<void>> = {
  validation: benchValidation,
  intake: benchIntake,
  tickets: benchTickets,
  console: benchConsole,
  reconcile: benchReconcile,
};

/** `npm run bench [part…]`: every part by default. Each prints its baseline, its measurement and their ratio. */
export async function main(args: string[]): Promise<number> {
  const chosen = args.length ? args : Object.keys(parts);
  for (const name of chosen) {
    const part = parts[name];
    if (!part) {
      console.error(`unknown benchmark "${name}"; parts: ${Object.keys(parts).join(', ')}`);
      return 2;
    }
    await part();
  }
  return 0;
}
