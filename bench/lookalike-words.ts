/**
 * Question: how many Russian, Ukrainian, Bulgarian and Greek words would fire a Latin term for an English word,
 * now that a word wholly in Cyrillic or Greek lookalikes is also read as Latin (`matchers/keywords/lookalikes.ts`)?
 *
 *   node dist/bench/lookalike-words.js
 *
 * Reads the word lists of Debian's packages (`apt-get install wamerican wbritish hunspell-ru hunspell-el
 * wukrainian wbulgarian`), skipping a list that is not installed. Each foreign word is taken as typed in
 * the list (mostly small letters), with a capital first, and in capitals, and alone: with no neighbour to
 * say it is Russian or Greek, which is the worst case (a one-word message, or a line in capitals whose words
 * all pass for Latin). A word counts when it is read as Latin at all, and fires when the matcher, built from
 * the English words its Latin reading could be, reports one of them over the whole word. English words are
 * those of small letters only, of 2 letters or more once normalised (the lists hold single letters, and `ooo`
 * is `o`). Beside it, what the mixed-word reading (every lookalike, `в` as b, `т` as t) would give if it were
 * used for whole words too, judged by the normalised forms (which is what the matcher does with a match that
 * is not plain ASCII). No timing: it counts.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { KeywordIndex, normalizeText } from '../matchers/keywords/index.js';
import { foldText } from '../matchers/keywords/fold.js';
import { baseCharTable } from '../matchers/keywords/char-table.js';
import { isLookalike } from '../matchers/keywords/lookalikes.js';
import { benchMachine, machineLine } from './suite-machine.js';
import { benchCommand } from './bench-command.js';

const RESULTS = new URL('../../bench/results/lookalike-words.json', import.meta.url);
const ENGLISH = ['/usr/share/dict/american-english', '/usr/share/dict/british-english'];
/** Each foreign list: its file, its encoding, and whether it is a hunspell `.dic` (a count, then `stem/FLAGS`). */
const FOREIGN = [
  { language: 'Russian', file: '/usr/share/hunspell/ru_RU.dic', encoding: 'utf-8', dic: true, from: 'hunspell-ru (stems)' },
  { language: 'Ukrainian', file: '/usr/share/dict/ukrainian', encoding: 'utf-8', dic: false, from: 'wukrainian (inflected forms)' },
  { language: 'Bulgarian', file: '/usr/share/dict/bulgarian', encoding: 'utf-8', dic: false, from: 'wbulgarian (inflected forms)' },
  { language: 'Greek', file: '/usr/share/hunspell/el_GR.dic', encoding: 'iso-8859-7', dic: true, from: 'hunspell-el (inflected forms)' },
] as const;
const EXAMPLES = 12;

const CASES = {
  'as listed': (w: string): string => w,
  'Capital first': (w: string): string => w[0]!.toUpperCase() + w.slice(1),
  CAPITALS: (w: string): string => w.toUpperCase(),
} as const;

function lines(file: string, encoding: string): string[] {
  return new TextDecoder(encoding).decode(readFileSync(file)).split('\n');
}

/** The matcher's Latin reading of a word alone, or undefined when it reads the word in its own script only. */
function wholeScriptReading(word: string): string | undefined {
  return foldText(word, baseCharTable()).latinText;
}

/** How the word would read as Latin if every lookalike counted, as in a word with a Latin letter. */
function mixedReading(word: string): string | undefined {
  if (![...word].every((c) => isLookalike(c.charCodeAt(0)))) return undefined;
  return foldText(`x${word}`, baseCharTable()).text.slice(1);
}

interface Count { readAsLatin: number; fireEnglish: number; examples: string[] }

function main(): void {
  console.log(machineLine(benchMachine()));
  console.log(`command: node dist/bench/lookalike-words.js`);
  const englishFiles = ENGLISH.filter((f) => existsSync(f));
  if (englishFiles.length === 0) {
    console.log(`no English word list: apt-get install wamerican wbritish`);
    process.exitCode = 1;
    return;
  }
  // Small letters only: a common word, not a name (`Bob`, `Ted`) or an abbreviation.
  const english = new Map<string, string>();
  for (const f of englishFiles) {
    for (const w of lines(f, 'utf-8')) {
      const key = /^[a-z]+$/.test(w) ? normalizeText(w) : '';
      if (key.length >= 2) english.set(key, w);
    }
  }
  console.log(`English: ${english.size} normalised forms of small-letter words from ${englishFiles.join(', ')}`);

  const results: Record<string, unknown>[] = [];
  for (const list of FOREIGN) {
    if (!existsSync(list.file)) {
      console.log(`\n${list.language}: ${list.file} not installed (${list.from.split(' ')[0]}), skipped`);
      continue;
    }
    const raw = lines(list.file, list.encoding).slice(list.dic ? 1 : 0).map((l) => (list.dic ? l.split('/')[0]! : l).trim());
    const words = [...new Set(raw.filter((w) => /^\p{L}+$/u.test(w)))];
    console.log(`\n${list.language}: ${words.length} words from ${list.file}, ${list.from}`);
    for (const [name, cased] of Object.entries(CASES)) {
      const counts = { whole: newCount(), mixed: newCount() };
      for (const reading of ['whole', 'mixed'] as const) {
        const latin = new Map<string, string>();
        for (const w of words) {
          const typed = cased(w);
          const l = reading === 'whole' ? wholeScriptReading(typed) : mixedReading(typed);
          if (l !== undefined) latin.set(typed, l);
        }
        const count = counts[reading];
        count.readAsLatin = latin.size;
        // The English words these readings could be, compiled as terms, so that the matcher itself decides.
        const candidates = [...new Set([...latin.values()].map((l) => english.get(normalizeText(l))).filter((e) => e !== undefined))];
        const index = candidates.length > 0 && reading === 'whole' ? KeywordIndex.build(candidates) : undefined;
        for (const [typed, l] of latin) {
          const fired = index === undefined
            ? english.get(normalizeText(l))
            : candidates[index.match(typed).find((m) => m.start === 0 && m.end === typed.length)?.entry ?? -1];
          if (fired === undefined) continue;
          count.fireEnglish++;
          if (count.examples.length < EXAMPLES) count.examples.push(`${typed} ${fired}`);
        }
      }
      const { whole, mixed } = counts;
      const share = (n: number): string => `${n} (${((100 * n) / words.length).toFixed(3)}%)`;
      console.log(`  ${name.padEnd(13)} read as Latin ${share(whole.readAsLatin).padStart(16)}, fire an English word ${share(whole.fireEnglish).padStart(13)}`
        + `: ${whole.examples.join(', ')}`);
      console.log(`  ${''.padEnd(13)} if every lookalike counted: ${share(mixed.readAsLatin)}, ${share(mixed.fireEnglish)}: ${mixed.examples.slice(0, 6).join(', ')}`);
      results.push({ language: list.language, file: list.file, words: words.length, case: name, whole, everyLookalike: mixed });
    }
  }
  mkdirSync(new URL('.', RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify({ question: 'foreign words that fire an English term when read as Latin', results }, null, 2)}\n`);
  console.log(`\nwrote ${RESULTS.pathname}`);
}

function newCount(): Count {
  return { readAsLatin: 0, fireEnglish: 0, examples: [] };
}

benchCommand({
  run: 'node dist/bench/lookalike-words.js',
  summary: 'How many Russian, Ukrainian, Bulgarian and Greek dictionary words would fire a Latin term for an English word,\n'
    + 'read as Latin for their lookalike letters: as listed, with a capital first and in capitals. Needs Debian\'s word\n'
    + 'lists (wamerican wbritish hunspell-ru hunspell-el wukrainian wbulgarian); a list not installed is skipped.\n'
    + 'Writes bench/results/lookalike-words.json. No timing: it counts.',
  options: {},
});
main();
