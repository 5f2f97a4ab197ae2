/**
 * What the swarm needs from a data folder: device tokens, a feed consumer token, and the synthetic
 * images' hashes imported as a list. For a server the suite starts, a fresh temporary folder gets a
 * config file and all of these before the server opens it. For a running server (`--url`), they go
 * into its data folder (`--data`), where the server picks them up while running, and the devices and
 * consumer are revoked as the run ends (bench/live-enrolment.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATEGORIES } from '../core/index.js';
import { ListStore, RegistryStore, openDatabases, type Databases } from '../store/index.js';
import { importListFile, readCsv } from '../pipeline/index.js';
import { DEMO_LISTS } from '../cli/demo-lists.js';
import { BENCH_HASH_LIST } from './swarm-images.js';

export interface Credentials { tokens: string[]; consumerToken: string | undefined }

const ENROL_CHUNK = 5000;
const DAY_MS = 86_400_000;

async function enrol(db: Databases, first: number, n: number): Promise<string[]> {
  const registry = new RegistryStore(db);
  const now = Date.now();
  const tokens: string[] = [];
  for (let start = first; start < first + n; start += ENROL_CHUNK) {
    const count = Math.min(ENROL_CHUNK, first + n - start);
    // lmdb-js commits the writes of concurrent transactions together: thousands of enrolments a second. Each run's
    // orders are its own (their dates are the run's): enrolling under an existing order with other terms is refused.
    const chunk = await Promise.all(Array.from({ length: count }, (_, k) => registry.enrol({
      subjectId: `bench-subject-${start + k}`, orderRef: `BENCH-ORDER-${now.toString(36)}-${start + k}`, categories: [...CATEGORIES],
      from: now - DAY_MS, until: now + 30 * DAY_MS,
    }).then((r) => r.token)));
    tokens.push(...chunk);
  }
  return tokens;
}

/** Imports the hashes CSV as `bench-hashes` unless the active version already holds exactly those rows. */
export async function importHashes(db: Databases, csv: string): Promise<void> {
  const lists = new ListStore(db);
  const wanted: string[] = [];
  for await (const rec of readCsv(csv, ['type', 'value', 'category', 'ref'])) wanted.push(`${rec.fields.type}:${rec.fields.value}`);
  const active = lists.active().find((l) => l.name === BENCH_HASH_LIST);
  if (active) {
    const have = [...lists.entries(active.name, active.version)].map((e) => `${e.hashType}:${e.value}`);
    if (have.length === wanted.length && have.every((h, i) => h === wanted[i])) return;
  }
  await importListFile(lists, 'hashes', BENCH_HASH_LIST, csv);
}

/**
 * A fresh folder for a server the suite starts: config file, devices, consumer, the demo lists (whose
 * terms, domains and apps the mix sends; a server creates them on first start only when it finds
 * no list at all) and the hashes list.
 */
export async function prepareDataDir(dir: string, devices: number, config: object, hashesCsv: string | undefined): Promise<Credentials> {
  writeFileSync(join(dir, 'vigil.json'), JSON.stringify(config, null, 2));
  const db = openDatabases(dir);
  try {
    const lists = new ListStore(db);
    for (const demo of DEMO_LISTS) await lists.importVersion(demo.name, demo.kind, 'built-in demo (bench)', demo.entries);
    const tokens = await enrol(db, 0, devices);
    const { token } = await new RegistryStore(db).createConsumer();
    if (hashesCsv !== undefined) await importHashes(db, hashesCsv);
    return { tokens, consumerToken: token };
  } finally {
    await db.root.close();
  }
}

/** Credentials from a file of device tokens (whitespace-separated), as `vigil simulate --tokens-file` takes. */
export function credentialsFromFile(path: string, consumerToken: string | undefined): Credentials {
  const tokens = readFileSync(path, 'utf8').split(/\s+/).filter((t) => t.startsWith('vd1.'));
  return { tokens, consumerToken };
}
