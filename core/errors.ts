/**
 * One error class per kind of failure, each with a stable `code`. Callers branch on `code`,
 * never on message text. Expected outcomes (no match, could not hash) are values, not errors.
 */
export type VigilErrorCode =
  | 'CONFIG_INVALID'
  | 'CONNECT_FAILED'
  | 'DATA_IN_USE'
  | 'FILE_ACCESS'
  | 'INTERRUPTED'
  | 'LIST_INVALID'
  | 'LISTEN_FAILED'
  | 'NO_DATABASE'
  | 'NOT_FOUND'
  | 'UWS_FALLBACK'
  | 'USAGE';

export class VigilError extends Error {
  readonly code: VigilErrorCode;
  constructor(code: VigilErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'VigilError';
    this.code = code;
  }
}

/** A setting is missing or out of range; the message names the key. */
export class ConfigError extends VigilError {
  constructor(message: string, options?: ErrorOptions) {
    super('CONFIG_INVALID', message, options);
    this.name = 'ConfigError';
  }
}

/** A list file has a malformed row; nothing of that import is applied. */
export class ListFormatError extends VigilError {
  readonly line: number;
  constructor(line: number, message: string, options?: ErrorOptions) {
    super('LIST_INVALID', `line ${line}: ${message}`, options);
    this.name = 'ListFormatError';
    this.line = line;
  }
}

/** An index was built from an entry it cannot use; `index` is the entry's position in its list. */
export class ListEntryError extends VigilError {
  readonly index: number;
  readonly reason: string;
  constructor(index: number, reason: string) {
    super('LIST_INVALID', `entry ${index}: ${reason}`);
    this.name = 'ListEntryError';
    this.index = index;
    this.reason = reason;
  }
}

/**
 * A data folder holds no Vigil database, and the caller asked not to create one (store/database.ts `openDatabases`
 * with `create: false`). `dataDir` is the absolute folder.
 */
export class NoDatabaseError extends VigilError {
  readonly dataDir: string;
  constructor(dataDir: string) {
    super('NO_DATABASE', `no Vigil data folder at ${dataDir}`);
    this.name = 'NoDatabaseError';
    this.dataDir = dataDir;
  }
}

/** Wrong arguments on the command line. */
export class UsageError extends VigilError {
  constructor(message: string) {
    super('USAGE', message);
    this.name = 'UsageError';
  }
}

/** A server refused a client's connection or could not be reached; the message says what to check. */
export class ConnectError extends VigilError {
  constructor(message: string, options?: ErrorOptions) {
    super('CONNECT_FAILED', message, options);
    this.name = 'ConnectError';
  }
}

/**
 * A file named on the command line cannot be read or written: `cannot read "F": no such file or directory (ENOENT)`.
 * A failure (exit 1), not a crash.
 */
export class FileError extends VigilError {
  constructor(verb: 'read' | 'write', path: string, cause: unknown) {
    const e = cause as NodeJS.ErrnoException;
    // Node's message is "CODE: description, syscall 'path'"; keep the description, name the code.
    const description = /^[A-Z]+: ([^,]+)/.exec(e?.message ?? '')?.[1] ?? String(e?.message ?? cause);
    super('FILE_ACCESS', `cannot ${verb} ${JSON.stringify(path)}: ${description}${e?.code ? ` (${e.code})` : ''}`, { cause });
    this.name = 'FileError';
  }
}

/**
 * Whether `err` is wrong usage of a command line (exit code 2): a `UsageError`, any error with code `USAGE` (the store
 * raises one for an order reused with other terms), or one of `util.parseArgs`'s (`ERR_PARSE_ARGS_*`: an unknown
 * option, a missing value).
 */
export function isUsageError(err: unknown): err is Error {
  if (err instanceof VigilError) return err.code === 'USAGE';
  return err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS');
}
