import type { Command } from 'commander';

/**
 * Exits with an error naming the command when `args` start with one the program does not have
 * (`adalora frobnicate --help`, `adalora help frobnicate`): commander alone would take the
 * `--help` for the top-level program's, print its help and exit 0.
 */
export function refuseUnknownCommand(program: Command, args: readonly string[]): void {
  const known = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
  const [first, second] = args;
  const name = first === 'help' ? second : first;
  if (name === undefined || name.startsWith('-') || name === 'help' || known.includes(name)) return;
  program.error(`error: unknown command '${name}' (commands: ${known.join(', ')}, help)`, { code: 'commander.unknownCommand', exitCode: 1 });
}

/**
 * Runs the CLI on node's argv once every command is registered: an unknown command is refused,
 * and an error of a command's action is printed as `adalora: <message>` with exit code 1.
 */
export function runProgram(program: Command, argv: readonly string[]): void {
  refuseUnknownCommand(program, argv.slice(2));
  program.parseAsync([...argv]).catch((e: Error) => {
    console.error(`adalora: ${e.message}`);
    process.exitCode = 1;
  });
}
