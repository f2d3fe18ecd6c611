import { commands } from './cli/commands.ts';
import { UsageError } from './cli/usage.ts';

const usage = () =>
  `Usage: ticketflow <command> [options]\n\nCommands:\n${Object.entries(commands)
    .map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`)
    .join('\n')}\n\nEvery command answers --help. Exit status: 0 ok, 1 a problem found, 2 bad usage.`;

/** Runs `ticketflow <command> …` and returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`ticketflow: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(args);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`ticketflow ${name}: ${e.message}\n\n${command.usage}`);
      return 2;
    }
    throw e;
  }
}
