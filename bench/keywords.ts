/**
 * Question: how fast does the keyword matcher scan typed text against a 10,000-term list, compared with
 * the most used npm Aho-Corasick package (`modern-ahocorasick`) on the same data in the same run?
 *
 *   node dist/bench/keywords.js [--seed N] [--terms N] [--bytes N] [--reps N]
 *
 * Generates placeholder terms (pseudo-words, some two-word phrases) and a few MB of text with a fixed
 * seed: ordinary English filler, pseudo-word decoys that share prefixes with the terms, and planted terms,
 * some disguised (digits, separators, spaced letters, repeats, case). Three texts: `ascii`; `mixed`,
 * which also has accented words, curly quotes and emoji, so that the Unicode folding runs; and `cyrillic`,
 * the mixed text with a quarter of its filler words Russian-looking (pseudo-words of Cyrillic syllables,
 * some wholly of letters that pass for Latin ones) and a tenth of its planted terms spelt wholly in Cyrillic
 * capitals that pass for Latin ones (`ВОТ`), so that the script decision and the Latin reading of such words run
 * (the baseline is not timed on it: see `Dataset.baseline`).
 *
 * Ours is timed on the raw text: folding, normalisation, both readings and offsets included.
 * The baseline cannot normalise, so it gets the text as `normalizeText` renders it (prepared before the
 * clock starts) with each term rendered the same way, both padded with spaces so that ` term ` matches
 * whole words only; its match count must equal ours in the main reading. Throughput is original text
 * bytes (UTF-8) per second for every row, so rows compare the same work.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import AhoCorasick from 'modern-ahocorasick';
import { KeywordIndex, normalizeText, type KeywordMatch } from '../matchers/keywords/index.js';
import { seededRandom } from '../core/index.js';
import { benchCommand } from './bench-command.js';
import { benchMachine, machineLine } from './suite-machine.js';

const DEFAULT_SEED = 20240611;
const DEFAULT_TERMS = 10_000;
const DEFAULT_TEXT_BYTES = 4_000_000;
const DEFAULT_REPS = 11;
/** Text size of the many-small-texts row: one typed text event. */
const EVENT_CHARS = 1_000;
const RESULTS = new URL('../../bench/results/keywords.json', import.meta.url);


const FILLER = (
  'the of and to in is you that it he was for on are as with his they at be this have from or one had by '
  + 'word but not what all were we when your can said there use an each which she do how their if will up '
  + 'other about out many then them these so some her would make like him into time has look two more write '
  + 'go see number no way could people my than first water been call who oil its now find long down day did '
  + 'get come made may part over new sound take only little work know place year live me back give most very '
  + 'after thing our just name good sentence man think say great where help through much before line right '
  + 'too mean old any same tell boy follow came want show also around form three small set put end does '
  + 'another well large must big even such because turn here why ask went men read need land different home '
  + 'us move try kind hand picture again change off play spell air away animal house point page letter mother '
  + 'answer found study still learn should world high every near add food between own below country plant last '
  + 'school father keep tree never start city earth eye light thought head under story saw left few while along '
  + 'might close something seem next hard open example begin life always those both paper together got group often'
).split(' ');
const ONSETS = ['b', 'd', 'f', 'g', 'k', 'm', 'n', 'p', 'r', 's', 't', 'v', 'z', 'br', 'dr', 'gr', 'kr', 'pl', 'st', 'tr', 'zv', 'kv', 'sn'];
const NUCLEI = ['a', 'e', 'o', 'u', 'y', 'ai', 'ou'];
const CODAS = ['', '', 'k', 'x', 'rn', 'q', 'z', 'nd', 'v'];
const ACCENT: Record<string, string> = { a: 'á', e: 'é', o: 'ö', u: 'ü', c: 'ç', n: 'ñ' };
const DIGIT: Record<string, string> = { o: '0', e: '3', a: '4', s: '5', t: '7', i: '1' };
const CYR_ONSETS = ['б', 'в', 'г', 'д', 'к', 'л', 'м', 'н', 'п', 'р', 'с', 'т', 'х', 'ч', 'ш'];
const CYR_NUCLEI = ['а', 'е', 'и', 'о', 'у', 'ы', 'я'];
const CYR_CODAS = ['', '', 'й', 'к', 'т', 'н', 'р', 'с'];
/** Latin letters and the Cyrillic capitals that look the same (UTS #39), for a term spelt wholly in them. */
const CYRILLIC_CAPITAL: Record<string, string> = {
  a: 'А', b: 'В', c: 'С', e: 'Е', h: 'Н', k: 'К', m: 'М', o: 'О', p: 'Р', t: 'Т', x: 'Х', y: 'У', ' ': ' ',
};

interface Dataset {
  name: string;
  /**
   * Whether modern-ahocorasick is timed on it: not on the Cyrillic text, on whose normalised form it ran at
   * 0.08 MB/s in a trial (50 kB; 8-11 MB/s on the others), so that 12 searches of it would take a quarter of an hour.
   */
  baseline: boolean;
  text: string;
  planted: { entry: number; start: number; end: number }[];
}

function generate(seed: number, termCount: number, textBytes: number) {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const pseudoWord = (): string => {
    let w = '';
    const syllables = 2 + Math.floor(rnd() * 2);
    for (let i = 0; i < syllables; i++) w += pick(ONSETS) + pick(NUCLEI) + pick(CODAS);
    return w;
  };
  const seen = new Set<string>();
  const terms: string[] = [];
  while (terms.length < termCount) {
    const term = rnd() < 0.15 ? `${pseudoWord()} ${pseudoWord()}` : pseudoWord();
    const key = normalizeText(term);
    if (seen.has(key)) continue;
    seen.add(key);
    terms.push(term);
  }
  const decoys: string[] = [];
  while (decoys.length < 3_000) {
    const w = pseudoWord();
    if (!seen.has(normalizeText(w))) decoys.push(w);
  }

  const cyrillicWord = (): string => {
    let w = '';
    const syllables = 1 + Math.floor(rnd() * 3);
    for (let i = 0; i < syllables; i++) w += pick(CYR_ONSETS) + pick(CYR_NUCLEI) + pick(CYR_CODAS);
    return w;
  };
  // Terms that can be spelt wholly in Cyrillic capitals that pass for Latin letters (`ВОТ` for `bot`).
  const spellable = terms.flatMap((term, entry) => ([...term].every((c) => CYRILLIC_CAPITAL[c] !== undefined) ? [entry] : []));
  const disguise = (term: string, mixed: boolean): string => {
    const x = rnd();
    if (x < 0.3) return term;
    if (x < 0.4) return term.toUpperCase();
    if (x < 0.5) return [...term].map((c) => DIGIT[c] ?? c).join('');
    if (x < 0.6) return term.split(' ').map((w) => [...w].join('.')).join(' ');
    if (x < 0.7 && !term.includes(' ')) return [...term].join(' ');
    if (x < 0.8) return term.replace(/[aeou]/, (v) => v.repeat(3));
    if (x < 0.9) return term.replace(/a/, '@').replace(/s/, '$');
    return mixed ? [...term].map((c) => ACCENT[c] ?? c).join('') : term.replace(' ', ' - ');
  };

  const makeText = (name: string, mixed: boolean, cyrillic = false): Dataset => {
    const parts: string[] = [];
    const planted: Dataset['planted'] = [];
    let length = 0;
    let sentenceStart = true;
    while (length < textBytes) {
      const x = rnd();
      let word: string;
      if (x < 0.002) {
        // In the Cyrillic text, a tenth of the planted terms are spelt wholly in Cyrillic capitals.
        const inCyrillic = cyrillic && rnd() < 0.1;
        const entry = inCyrillic ? pick(spellable) : Math.floor(rnd() * terms.length);
        word = inCyrillic ? [...terms[entry]!].map((c) => CYRILLIC_CAPITAL[c]!).join('') : disguise(terms[entry]!, mixed);
        planted.push({ entry, start: length, end: length + word.length });
      } else if (x < 0.15) {
        word = pick(decoys);
      } else {
        word = cyrillic && rnd() < 0.25 ? cyrillicWord() : pick(FILLER);
        const y = rnd();
        if (y < 0.01) word = `${word}-${pick(FILLER)}`;
        else if (y < 0.02) word = `${word}'s`;
        else if (y < 0.021) word = `@${pick(decoys)}`;
        else if (mixed && y < 0.03) word = [...word].map((c) => ACCENT[c] ?? c).join('');
        else if (mixed && y < 0.035) word = `“${word}”`;
        else if (mixed && y < 0.037) word = `${word} 🙂`;
        if (sentenceStart) word = word[0]!.toUpperCase() + word.slice(1);
      }
      sentenceStart = false;
      const z = rnd();
      const gap = z < 0.06 ? '. ' : z < 0.07 ? '? ' : z < 0.15 ? ', ' : ' ';
      if (gap !== ' ' && gap !== ', ') sentenceStart = true;
      parts.push(word, gap);
      length += word.length + gap.length;
    }
    return { name, baseline: !cyrillic, text: parts.join(''), planted };
  };
  return { terms, datasets: [makeText('ascii', false), makeText('mixed', true), makeText('cyrillic', true, true)] };
}

function millis(run: () => unknown): number {
  const t0 = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Nearest-rank percentile of `xs`. */
function percentile(xs: readonly number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

interface Row {
  dataset: string;
  what: string;
  matches: number;
  msMedian: number;
  mbPerSecMedian: number;
  mbPerSecP10: number;
  mbPerSecP90: number;
}

function row(dataset: string, what: string, matches: number, bytes: number, times: number[]): Row {
  const rates = times.map((ms) => bytes / 1e6 / (ms / 1e3));
  return {
    dataset,
    what,
    matches,
    msMedian: percentile(times, 50),
    mbPerSecMedian: percentile(rates, 50),
    mbPerSecP10: percentile(rates, 10),
    mbPerSecP90: percentile(rates, 90),
  };
}

/**
 * Splits `text` at spaces into texts of about `size` characters, like a stream of typed text events.
 * Each is decoded from UTF-8 afresh, as the device protocol's decoder would hand it over: a slice of one
 * big string is slower to read, and no event arrives as one.
 */
function events(text: string, size: number): string[] {
  const out: string[] = [];
  for (let at = 0; at < text.length;) {
    let end = Math.min(text.length, at + size);
    const space = text.indexOf(' ', end);
    end = space === -1 ? text.length : space;
    out.push(Buffer.from(text.slice(at, end), 'utf8').toString('utf8'));
    at = end;
  }
  return out;
}

function main(): void {
  const { values: { seed, terms: termCount, bytes: textBytes, reps } } = benchCommand({
    run: 'node dist/bench/keywords.js',
    summary: 'How fast the keyword matcher scans typed text against a 10,000-term list, against modern-ahocorasick on the\n'
      + 'same data in the same run, on an ASCII text and a mixed one (accents, curly quotes, emoji). Writes\n'
      + 'bench/results/keywords.json.',
    options: {
      seed: { kind: 'int', default: DEFAULT_SEED, min: 1, help: 'seed of the terms and texts' },
      terms: { kind: 'int', default: DEFAULT_TERMS, min: 1, help: 'listed terms' },
      bytes: { kind: 'int', default: DEFAULT_TEXT_BYTES, min: 1, help: 'bytes of each text' },
      reps: { kind: 'int', default: DEFAULT_REPS, min: 1, help: 'timed repetitions' },
    },
  });
  const machine = benchMachine();
  const command = `node ${process.argv.slice(1).map((a) => a.replace(/^.*\/dist\//, 'dist/')).join(' ')}`;
  const loadBefore = loadavg().map((x) => +x.toFixed(2));
  console.log(machineLine(machine));
  console.log(`load average before: ${loadBefore.join(' ')} (other work on the machine slows every row alike)`);
  console.log(`command: ${command}`);

  const { terms, datasets } = generate(seed, termCount, textBytes);
  let t0 = performance.now();
  const index = KeywordIndex.build(terms);
  const buildMs = performance.now() - t0;
  const shared = index.toShared();
  const tableBytes = [shared.charClasses, shared.transitions, shared.outputStart, shared.outputs, shared.patternLength]
    .reduce((sum, b) => sum + b.byteLength, 0);
  t0 = performance.now();
  const baseline = new AhoCorasick(terms.map((term) => ` ${normalizeText(term)} `));
  const baselineBuildMs = performance.now() - t0;
  console.log(`seed ${seed}; ${terms.length} terms (${terms.filter((x) => x.includes(' ')).length} phrases)`);
  console.log(`build: ours ${buildMs.toFixed(0)} ms (${shared.stateCount} states x ${shared.classCount} classes, `
    + `${(tableBytes / 2 ** 20).toFixed(1)} MiB shared), modern-ahocorasick ${baselineBuildMs.toFixed(0)} ms`);

  const rows: Row[] = [];
  const data: Record<string, unknown>[] = [];
  for (const { name, baseline: timeBaseline, text, planted } of datasets) {
    const bytes = Buffer.byteLength(text);
    const normalized = ` ${normalizeText(text)} `;
    const small = events(text, EVENT_CHARS);
    console.log(`\n[${name}] ${(bytes / 1e6).toFixed(2)} MB (${text.length} UTF-16 units), normalised ${(normalized.length / 1e6).toFixed(2)} M chars, `
      + `${planted.length} planted terms, ${small.length} events of ~${EVENT_CHARS} chars`);

    // Warm up as production would: many small texts first, then the whole text once.
    for (const e of small.slice(0, 2000)) index.match(e);
    let ours: KeywordMatch[] = index.match(text);
    let base = timeBaseline ? baseline.search(normalized) : [];
    let oursPre = index.match(normalized);
    const times = { ours: [] as number[], base: [] as number[], oursPre: [] as number[], events: [] as number[] };
    for (let r = 0; r < reps; r++) {
      times.ours.push(millis(() => { ours = index.match(text); }));
      if (timeBaseline) times.base.push(millis(() => { base = baseline.search(normalized); }));
      times.oursPre.push(millis(() => { oursPre = index.match(normalized); }));
      times.events.push(millis(() => { for (const e of small) index.match(e); }));
    }
    let eventMatches = 0;
    for (const e of small) eventMatches += index.match(e).length;

    const found = planted.filter((p) => ours.some((m) => m.entry === p.entry && m.start < p.end && p.start < m.end)).length;
    rows.push(
      row(name, 'ours: KeywordIndex.match(raw text)', ours.length, bytes, times.ours),
      row(name, 'ours: KeywordIndex.match(normalised text)', oursPre.length, bytes, times.oursPre),
      row(name, `ours: ${small.length} texts of ~${EVENT_CHARS} chars`, eventMatches, bytes, times.events),
    );
    if (timeBaseline) rows.push(row(name, 'modern-ahocorasick search(normalised text)', base.length, bytes, times.base));
    const mine = rows.filter((x) => x.dataset === name);
    data.push({ name, bytes, utf16Units: text.length, normalizedChars: normalized.length, planted: planted.length, plantedFound: found });
    console.log(`planted terms found by ours: ${found}/${planted.length}`);
    console.log(`matches: ours ${ours.length} (both readings), ours on the normalised text ${oursPre.length}`
      + (timeBaseline ? `, modern-ahocorasick ${base.length}` : ', modern-ahocorasick not timed on this text'));
    for (const x of mine) {
      console.log(`  ${x.what.padEnd(46)} median ${x.mbPerSecMedian.toFixed(1).padStart(6)} MB/s  `
        + `p10 ${x.mbPerSecP10.toFixed(1).padStart(6)}  p90 ${x.mbPerSecP90.toFixed(1).padStart(6)}  (${x.msMedian.toFixed(1)} ms)`);
    }
    const [r0, , , rBase] = mine;
    if (r0 !== undefined && rBase !== undefined) {
      console.log(`  ratio ours / modern-ahocorasick (medians): ${(r0.mbPerSecMedian / rBase.mbPerSecMedian).toFixed(1)}x`);
    }
  }

  const loadAfter = loadavg().map((x) => +x.toFixed(2));
  console.log(`\nload average after: ${loadAfter.join(' ')}`);
  const results = {
    question: 'keyword matcher throughput, ours against modern-ahocorasick on the same data',
    machine, loadBefore, loadAfter, command, seed, terms: terms.length, reps, buildMs, baselineBuildMs, tableBytes,
    datasets: data, rows,
    ratios: datasets.filter((d) => d.baseline).map(({ name }) => {
      const mine = rows.find((x) => x.dataset === name && x.what.startsWith('ours: KeywordIndex.match(raw'))!;
      const theirs = rows.find((x) => x.dataset === name && x.what.startsWith('modern'))!;
      return { dataset: name, oursOverBaseline: mine.mbPerSecMedian / theirs.mbPerSecMedian };
    }),
  };
  mkdirSync(new URL('.', RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${RESULTS.pathname}`);
}

main();
