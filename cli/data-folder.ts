/**
 * The data folder of the commands that work on a server's data (`enrol`, `orders`, `tokens`, `devices`, `lists`,
 * `operators`, `audit`, and `simulate` and `bench --url` when they enrol): it must hold a Vigil database already.
 * Only `vigil serve` creates one. Otherwise a mistyped `--data`, or the default `./var/vigil` read from another
 * current folder, quietly became a new, empty database that no server reads: a device enrolled or a token made there
 * was refused by the real server (401), and a list or revocation written there changed nothing.
 */
import { resolve } from 'node:path';
import { NoDatabaseError, UsageError } from '../core/index.js';
import { missingDatabase, openDatabases, type Databases } from '../store/index.js';

/** What to do about a folder that holds no database, when the command has nothing more specific to say. */
export const createOrName = (dataDir: string): string =>
  `start vigil serve --data ${dataDir} once to create it, or give the server's folder with --data DIR (or VIGIL_DATA)`;

/** Refuses a folder that holds no Vigil database, with one line naming the absolute folder and what to do. */
export function requireDataFolder(dataDir: string, fix: string = createOrName(resolve(dataDir))): void {
  if (missingDatabase(dataDir)) throw new UsageError(`no Vigil data folder at ${resolve(dataDir)}: ${fix}`);
}

/** Opens the data folder of a server, never creating one (see requireDataFolder). */
export function openDataFolder(dataDir: string): Databases {
  try {
    return openDatabases(dataDir, { create: false });
  } catch (err) {
    if (err instanceof NoDatabaseError) throw new UsageError(`${err.message}: ${createOrName(err.dataDir)}`);
    throw err;
  }
}
