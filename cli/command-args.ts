/**
 * Checks on a command's arguments that `util.parseArgs` cannot make: it knows the options of a whole command
 * (`vigil operators`), not which of its subcommands take each, and would let `operators list --username U` pass with
 * the option ignored. What a subcommand does not take is refused (exit 2), as the usage says.
 */
import { UsageError } from '../core/index.js';

/** Refuses any option in `values` (as parseArgs gives them) that `allowed` does not name. */
export function onlyOptions(values: Record<string, unknown>, allowed: readonly string[], command: string, usage: string): void {
  const stray = Object.keys(values).filter((k) => values[k] !== undefined && !allowed.includes(k));
  if (stray.length > 0) throw new UsageError(`vigil ${command} does not take ${stray.map((k) => `--${k}`).join(', ')}; ${usage}`);
}
