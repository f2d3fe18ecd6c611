import { commands } from './cli/commands.ts';
import { UsageError } from './cli/usage.ts';

const usage = async () => {
  const summaries = await Promise.all(Object.entries(commands).map(async ([name, load]) => `  ${name.padEnd(17)}${(await load()).summary}`));
  return `Usage: ticketflow <command> [options]\n\nCommands:\n${summaries.join('\n')}\n\nEvery command answers --help. Exit status: 0 ok, 1 a problem found, 2 bad usage.`;
};

/** Runs `ticketflow <command> …` and returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(await usage());
    return name === undefined ? 2 : 0;
  }
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!load) {
    console.error(`ticketflow: unknown command "${name}"\n\n${await usage()}`);
    return 2;
  }
  const command = await load();
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
