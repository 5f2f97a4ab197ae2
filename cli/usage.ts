/**
 * What `vigil --help` and `vigil <command> --help` print. Commands with many options (`hash`, `simulate`, `bench`)
 * have a text of their own, kept beside their parser where it can be (`HASH_USAGE`, `SUITE_USAGE`); the others' usage
 * is their lines of the overview, whose notes (dates, --data, the environment) apply to every command.
 */
export const USAGE = `Usage: vigil <command> [options]

Commands:
  serve [--port N] [--host H]        run ingest, matching and the alert feed in one process
        [--new-evidence-key]         take this start's evidence key in place of a lost one (only with no
                                     sealed evidence left; audited)
  enrol --subject ID --order REF --categories keyboard,web,image,heartbeat,location
        --from DATE --until DATE     create a subject's order and a device; prints {deviceId, token}
                                     (a second device on an order needs the order's exact terms)
  orders vary --order REF [--categories LIST] [--from DATE] [--until DATE | --end-now]
                                     change an order's terms for all its devices (a court varied it);
                                     prints the order. A past --until is refused; --end-now ends it now
  tokens create --role consumer      create an alert-feed consumer token; prints {token, consumerId}
  tokens list                        feed consumers: consumerId, createdAt, revokedAt (never secrets)
  tokens revoke --consumer ID|TOKEN  revoke a consumer token, by its id (the con-… part of vc1.con-….secret)
                                     or the token itself;
                                     open feed sockets close within seconds (code 4401)
  devices list [--subject ID] [--active]
                                     devices: deviceId, subjectId, orderRef, createdAt, revokedAt, active
                                     (not revoked, order not ended); --active: only those; audited
  devices revoke --device ID|TOKEN   revoke a device's token, by the device id or the token itself (live
                                     connections close within seconds)
  lists import --kind hashes|urls|keywords|apps --name NAME [--allow-empty] FILE
                                     import a CSV list as a new version (the server switches to it)
  lists list                         the active version of every list
  operators create --username U --role admin|manager|auditor [--password-file F]
                                     create an operator account (password: the first line of the file,
                                     else of stdin, without its line ending; no leading or trailing spaces)
  operators list                     operator accounts
  operators role --username U --role R | password --username U [--password-file F]
  operators unlock | disable | enable --username U
                                     change an operator's role, password, lock or access
  operators caseload --username U [--add SUBJECT] [--remove SUBJECT]
                                     assign subjects to a manager's caseload
  audit verify [--file EXPORT]       check the audit log's hash chain (or an export); reports the first broken link
  audit export [--from N] [--to M] [--out FILE]
                                     write audit entries with the hashes needed to verify them elsewhere
  hash [--dihedral|--all] FILE...    PDQ hashes as Meta's pdq-photo-hasher prints them
  simulate --url URL [--devices N] [--rate R] [--seconds S] [--tokens-file F] [--token T]... [--consumer-token T]
                                     a swarm of simulated devices against a running server: N devices
                                     (default 10) sending R events/s each (default 5; 0 = as fast as acks
                                     allow) for S seconds (default 10). Without tokens it enrols its own
                                     devices and a consumer in --data (the server's data folder, audited)
                                     and revokes them when the run ends or on Ctrl-C. --tokens-file F: a
                                     file of device tokens (whitespace-separated) to use instead, left active
  bench [--quick] [--check] [--url URL --data DIR]
                                     load benchmarks against the latency budgets (bench/budgets.json);
                                     with --url, the devices and consumer it enrols in --data (audited)
                                     are revoked when the run ends, fails or on Ctrl-C

DATE is YYYY-MM-DD (a day in UTC; an --until day is included whole) or an ISO 8601 timestamp with a
zone, e.g. 2026-01-01T09:00Z or 2026-01-01T09:00+01:00. A subject ID is 1-128 letters, digits, '.', '_', '-'
and ':', beginning and ending with a letter or digit (S-0001); an order REF may also hold '/' and '+' (not '..').
vigil <command> --help shows a command's usage in full, with every option.
Every command takes --data DIR (default ./var/vigil of the current folder, or VIGIL_DATA) and --help, before or
after the command; --port and --host are serve's alone. Only serve creates a data folder (on its first start): the
other commands refuse a folder holding no Vigil database. Arguments a command or subcommand does not take are
refused (exit 2).
Environment: VIGIL_DATA, VIGIL_PORT, VIGIL_HOST, VIGIL_LOG_LEVEL, VIGIL_WORKERS, VIGIL_EVIDENCE_KEY, VIGIL_CONFIG;
one set but empty counts as unset.
`;

/** A command's lines of USAGE and the notes after the list of commands, or the whole text for a command it does not list. */
function linesOf(command: string): string {
  const [head, rest] = USAGE.split('\nCommands:\n') as [string, string];
  const [list, notes] = rest.split('\n\n') as [string, string];
  const blocks: string[][] = [];
  for (const line of list.split('\n')) {
    if (/^ {2}\S/.test(line)) blocks.push([line]);
    else blocks.at(-1)?.push(line);
  }
  const mine = blocks.filter((b) => b[0]!.trim().split(/\s/)[0] === command);
  if (mine.length === 0) return USAGE;
  return `${head.replace('<command> [options]', `${command} …`)}\n${mine.flat().join('\n')}\n\n${notes}`;
}

/** Options of `vigil simulate` (cli/simulate.ts parses them). */
export const SIMULATE_USAGE = `Usage: vigil simulate --url URL [--devices N] [--rate R] [--seconds S] [--token T]... [--tokens-file F]
                      [--consumer-token T] [--hit-rate P] [--seed N] [--json]

A swarm of simulated devices against a running server, over real WebSockets: it prints progress each second,
then a summary (events sent and acknowledged, rejects by code, alerts seen on the feed for its devices, capture
requests, ack latency p50/p90/p99). Exit 1 if some events were never acknowledged.

Without device tokens it enrols its own devices (subjects sim-subject-0..N-1, a new order each) and a feed consumer
in --data, which must be the running server's data folder (audited, via "simulate"), and revokes them when the run
ends, or when it is stopped early by Ctrl-C, SIGTERM or SIGHUP (a closed terminal); it then exits 128 + the
signal's number (130, 143, 129). A second signal quits at once, leaving them active. Devices given by token are left
as they are. A device refused RATE_LIMITED backs off (100 ms, doubling up to 5 s) and sends the event again; the
summary says whether the run was paced by --rate, by acks, or by the server's per-device rate limit.

  --url URL              the server: http, https, ws or wss, host and port, no path but /v1/device; required
  --devices N            how many devices, a positive integer (default 10)
  --rate R               events per second per device, 0 or more (default 5; 0 = as fast as acks and the
                         server's per-device rate limit allow)
  --seconds S            how long to send, in seconds (default 10)
  --token T              a device token to use instead of enrolling; repeatable
  --tokens-file F        a file of device tokens, whitespace-separated, to use instead of enrolling
                         (given tokens, at least N of them are needed)
  --consumer-token T     a feed consumer token, to count the alerts raised for the devices (with tokens given;
                         otherwise the consumer it enrols is used, and without either the feed is not watched)
  --hit-rate P           the share of text, web and app events that carry the demo lists' terms, domains and
                         apps, 0..1 (default 0.05)
  --seed N               seed of the event mix, so that runs can be repeated (default 1)
  --json                 print the summary as one JSON object
  --data DIR             the running server's data folder (default ./var/vigil of the current folder, or
                         VIGIL_DATA); a folder holding no Vigil database is refused
  -h, --help             print this help`;

/** `vigil <command> --help`: the command's full usage and options. */
export async function commandUsage(command: string): Promise<string> {
  switch (command) {
    case 'hash': return (await import('./hash-command.js')).HASH_USAGE;
    case 'simulate': return SIMULATE_USAGE;
    case 'bench': return (await import('../bench/suite-options.js')).SUITE_USAGE;
    default: return linesOf(command);
  }
}
