import { InvalidArgumentError } from 'commander';

/**
 * Parsers of command-line option values shared by the CLIs (commander `argParser`s): a bad value
 * is refused by commander with the option's name and this message.
 */

/** An integer option of at least `min`, e.g. `--port` (0) or `--workers` (1). */
export function integerAtLeast(min: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}, got '${value}'`);
    return n;
  };
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** A commander parser for a finite number (a threshold); anything else is refused naming the value. */
export function finiteNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got '${value}'`);
  return n;
}

/** A duration in milliseconds from '90s', '10m', '1.5h', '500ms'; a bare number is seconds. */
export function parseDuration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`expected a duration such as 90s, 10m or 1h, got '${value}'`);
  return Number(m[1]) * UNIT_MS[(m[2] ?? 's') as keyof typeof UNIT_MS];
}
