import t from 'tap';
import { Worker } from 'node:worker_threads';
import { KeywordIndex, KeywordTermError, normalizeText, type KeywordMatch, type SharedKeywordIndex } from '../../matchers/keywords/index.js';
import { foldText, originalIndex } from '../../matchers/keywords/fold.js';
import { mergeReadings } from '../../matchers/keywords/keyword-match.js';
import { matchKept } from '../../matchers/keywords/keyword-index.js';
import { UnitBuffer, altClass, initialState, mainClass, produceUnits } from '../../matchers/keywords/normalize.js';
import { CAPITAL_I, DROP, OTHER_WORD } from '../../matchers/keywords/unit-codes.js';
import { OWN_LETTERS, OWN_LETTER_BASE } from '../../matchers/keywords/lookalikes.js';
import { capitalIReading } from '../../matchers/keywords/capital-i.js';
import { baseCharTable } from '../../matchers/keywords/char-table.js';

/**
 * The reference's own idea of a mark that belongs to the letter before it, kept apart from `isKeptMark`:
 * any combining mark, and the kana voicing marks however typed (spacing, half-width), of the scripts
 * written without spaces.
 */
const REFERENCE_KEPT_MARK = /^(?=[\p{M}\u309b\u309c\uff9e\uff9f])[\p{scx=Han}\p{scx=Hira}\p{scx=Kana}\p{scx=Thai}\p{scx=Lao}\p{scx=Khmr}\p{scx=Mymr}]$/u;
import { seededRandom } from '../../core/index.js';

// Placeholder terms only: pseudo-words and neutral phrases, never real abusive words.

/** The matched excerpts, as `entry:excerpt`, in the order reported. */
function hits(index: KeywordIndex, text: string): string[] {
  return index.match(text).map((m) => `${m.entry}:${text.slice(m.start, m.end)}`);
}

t.test('keywords - matches a plain term as a whole word', async (t) => {
  const index = KeywordIndex.build(['forbiddenword']);
  t.same(hits(index, 'this has a forbiddenword in it'), ['0:forbiddenword']);
  t.same(hits(index, 'forbiddenword'), ['0:forbiddenword']);
  t.same(hits(index, 'nothing to see here'), []);
  const [m] = index.match('a forbiddenword');
  t.same(m, { entry: 0, distance: 0, threshold: 0, start: 2, end: 15 });
});

t.test('keywords - ignores case', async (t) => {
  const index = KeywordIndex.build(['BadWord']);
  t.same(hits(index, 'BADWORD badword bAdWoRd'), ['0:BADWORD', '0:badword', '0:bAdWoRd']);
});

t.test('keywords - folds compatibility forms and diacritics', async (t) => {
  const index = KeywordIndex.build(['badword', 'fiddle', 'cafe']);
  t.same(hits(index, 'ｂａｄｗｏｒｄ'), ['0:ｂａｄｗｏｒｄ'], 'fullwidth');
  t.same(hits(index, '𝐛𝐚𝐝𝐰𝐨𝐫𝐝'), ['0:𝐛𝐚𝐝𝐰𝐨𝐫𝐝'], 'mathematical bold, outside the BMP');
  t.same(hits(index, 'ⓑⓐⓓⓦⓞⓡⓓ'), ['0:ⓑⓐⓓⓦⓞⓡⓓ'], 'circled letters');
  t.same(hits(index, 'ﬁddle'), ['1:ﬁddle'], 'ligature');
  t.same(hits(index, 'bádwörd café cafe\u0301'), ['0:bádwörd', '2:café', '2:cafe\u0301'], 'precomposed and combining');
  t.same(hits(index, 'BÀDWÖRD'), ['0:BÀDWÖRD']);
});

t.test('keywords - matches a term written with digit substitutions', async (t) => {
  const index = KeywordIndex.build(['forbiddenword', 'toast', 'eats']);
  t.same(hits(index, 'f0rb1dd3nw0rd'), ['0:f0rb1dd3nw0rd']);
  t.same(hits(index, '7o457 3a75'), ['1:7o457', '2:3a75'], '7 for t, 0 for o, 4 for a, 5 for s, 3 for e');
  t.same(hits(index, '70457 3475'), [], 'the price of reading numbers as numbers: a spelling wholly in digits does not match');
  t.same(hits(index, 'T0@5T'), ['1:T0@5T'], '@ for a inside a word');
  t.same(hits(index, 'e@t$'), ['2:e@t$'], '$ for s at the end of a word');
});

t.test('keywords - reads a word without letters as a number (5.05 and room 505 fired sos, Boeing 707 tot)', async (t) => {
  const index = KeywordIndex.build(['sos', 'tot', 'boss', 'panda', 'secret', '1337']);
  t.same(hits(index, '5.05 $5.05 room 505 Boeing 707 7.07 5,05 5 0 5'), []);
  t.same(hits(index, 'b0$$ p4nd4 5ecret s0s 5o5 t0t'), ['2:b0$$', '3:p4nd4', '4:5ecret', '0:s0s', '0:5o5', '1:t0t']);
  t.same(hits(index, '1337 leet'), ['5:1337', '5:leet'], 'a term without letters still matches a number');
});

t.test('keywords - matches 1, | and ! where a term has an i or an l', async (t) => {
  const index = KeywordIndex.build(['skill']);
  t.same(hits(index, 'skill sk1ll ski11 sk|ll sk!ll SKILL skil skiiil sk1l1 ski1l'), [
    '0:skill', '0:sk1ll', '0:ski11', '0:sk|ll', '0:sk!ll', '0:SKILL', '0:skil', '0:skiiil', '0:sk1l1', '0:ski1l',
  ]);
  t.same(hits(index, 'ski skl'), [], 'i and l are different letters: neither stands for the other');
  t.equal(normalizeText('skill sk1ll'), 'skil sk1l');
  const more = KeywordIndex.build(['hello', 'bluefish', 'kitten', 'lit', 'hill', '1337']);
  t.same(hits(more, 'he11o b1uefish k1tten 1it l1t 11t hi11 h111 leet'), [
    '0:he11o', '1:b1uefish', '2:k1tten', '3:1it', '3:l1t', '3:11t', '4:hi11', '4:h111', '5:leet',
  ], 'a 1 in a term stands for i and l too');
});

t.test('keywords - does not read l as i (lit, hill and lid fired on innocent words)', async (t) => {
  const index = KeywordIndex.build(['lit', 'hill', 'lid', 'bill']);
  t.same(hits(index, 'is it on? I said hi to him. show me your ID. bi'), []);
  t.same(hits(index, "it's lit, the hill, a lid, the bill"), ['0:lit', '1:hill', '2:lid', '3:bill']);
});

t.test('keywords - reads a capital I after a small letter as 1 (kiII and heIIo no longer matched kill and hello)', async (t) => {
  const index = KeywordIndex.build(['kill', 'hello', 'hill', 'lit', 'lid', 'iowa']);
  t.same(hits(index, 'kiII heIIo KiII kIll'), ['0:kiII', '1:heIIo', '0:KiII', '0:kIll']);
  t.same(hits(index, 'HI II Hi! It is. I said. ID Id In'), [], 'I at the start of a word or in capitals stays i');
  t.same(hits(index, 'KILL HILL Iowa'), ['0:KILL', '2:HILL', '5:Iowa']);
  t.equal(normalizeText('heIIo HI It'), 'he1o hi it');
  t.same(hits(index, 'hI kI oh hI there'), [], 'not at the end of a word of 2 letters (hI fired hill, kI kill)');
  t.same(hits(index, 'kiI hIll kII'), ['2:hIll', '0:kII'], 'from 3 letters, or not at the end, it does (kiI has one l for kill\'s two)');
});

t.test('keywords - reads a lone capital I as 1 in a row of single letters after a small one (k i I I and k.i.I.I did not match kill)', async (t) => {
  const index = KeywordIndex.build(['kill', 'hello', 'bill']);
  t.same(hits(index, 'k i I I, k.i.I.I, k-i-I-I, k_i_I_I, b i I I'), ['0:k i I I', '0:k.i.I.I', '0:k-i-I-I', '0:k_i_I_I', '2:b i I I']);
  t.same(hits(index, 'h e I I o and h. e. I. I. o and h - e - I - I - o'), ['1:h e I I o', '1:h. e. I. I. o', '1:h - e - I - I - o']);
  t.same(hits(index, 'k i I I! k i I l l kiIIll k i\u200b I I'), ['0:k i I I', '0:k i I l l', '0:kiIIll', '0:k i\u200b I I'],
    'punctuation after the row, a repeated letter, a character to skip');
  t.equal(normalizeText('k i I I'), 'ki1');
  t.equal(normalizeText('h.e.I.I.o'), 'he1o');
  t.same(hits(index, 'K I I I, K.I.L.L'), ['0:K.I.L.L'], 'in capitals the I is i, as in KIII and KILL');
  t.same(hits(index, 'k i I'), [], 'kill doubles its l: one I is not two');
});

t.test('keywords - a capital I that begins a word or stands by a word still reads i (Is, India, IT, Post-It and I)', async (t) => {
  const index = KeywordIndex.build(['lit', 'ls', 'lndia', 'lt', 'ld', 'ln', 'l', 'hill', 'lid', 'l think']);
  const text = 'Is India IT It Id In I. Post-It notes, you and I, Part I, i.e. I think, e.g. I said, II, K I I I, hI, h.I, h I, a I, kiII I';
  t.same(hits(index, text), [], 'no l-term fires');
  t.equal(normalizeText('Is India IT Post-It, and I, i.e. I think'), 'is india it postit and i ie i think');
  const terms = KeywordIndex.build(['is', 'india', 'it', 'i think']);
  t.same(hits(terms, 'Is India IT Post-It, i.e. I think'), ['0:Is', '1:India', '2:IT', '2:It', '3:I think'], 'and the i-terms still do');
});

t.test('keywords - joins a row that mixes letters joined by separators and single spaces (k.i I I read ki 1 1, with a lone 1)', async (t) => {
  const index = KeywordIndex.build(['kill', 'hello', 'panda', 'bill']);
  t.same(hits(index, 'k.i I I, k i.I I, k i I.I, b.i I l, h.e I I o, p.a n.d a'),
    ['0:k.i I I', '0:k i.I I', '0:k i I.I', '3:b.i I l', '1:h.e I I o', '2:p.a n.d a']);
  t.equal(normalizeText('k.i I I'), 'ki1', 'the row reads as one word, its I\'s as 1 for l');
  t.equal(normalizeText('k i I.I, h.e I I o'), 'ki1 he1o');
  t.same(hits(index, 'k.i I, k.i l'), [], 'two pieces are no row');
  t.equal(normalizeText('k.e.y k e y, b.a.d w o r d'), 'key key bad word', 'past 2 letters joined by separators are a word a row does not swallow');
  t.equal(normalizeText('k\u200b e y, k\u200b.i I I'), 'key ki1', 'a character to skip after the first letter no longer parts a row (k\u200b e y read k e y)');
});

t.test('keywords - a capital I after a space the main reading does not join reads i (k.i.I I read ki1 1)', async (t) => {
  t.equal(normalizeText('k.i.I I'), 'ki1 i', 'letters joined by separators and one more are two words: the last I stands alone');
  t.equal(normalizeText('k.i.I I and k i.I.I'), 'ki1 i and k i1');
  t.equal(normalizeText('h.e.I I o'), 'he1 i o', 'nor with another: letters joined by separators past 2 are a word');
});

t.test('keywords - letters joined by separators that end in a separator and a space stay a word of their own (i.e. I, p.a. n. d. a)', async (t) => {
  t.equal(normalizeText('Part I, and I, i.e. I think, Post-It, p.m I think, e.g I said, U.S.A I, a.m I\'m'),
    'part i and i ie i think postit pm i think eg i said usa i am i m');
  t.equal(normalizeText('i.e. k e y, p.a. n. d. a, x.y. I I'), 'ie key pa nda xy i i', 'a row after them begins after them');
  const index = KeywordIndex.build(['l', 'lt', 'l think', 'iel', 'pml', 'key']);
  t.same(hits(index, 'Part I, and I, i.e. I think, Post-It, p.m I think, e.g I said, U.S.A I, a.m I\'m, i.e. k e y'), ['5:k e y']);
});

t.test('keywords - a capital I never reads as a 1 standing alone in the main reading (k.i I I, k.i.I I and x.y. I I did)', async (t) => {
  const rnd = seededRandom(0x11);
  const pieces = ['I', 'I', 'I', 'k', 'i', 'e', 'H', ' ', ' ', ' ', '.', '-', '. ', ' - ', '  ', '\u200b', ',', 'ab', '@', 'I.I'];
  let ones = 0;
  for (let round = 0; round < 20_000; round++) {
    const text = Array.from({ length: 2 + Math.floor(rnd() * 12) }, () => pieces[Math.floor(rnd() * pieces.length)]!).join('');
    const words = normalizeText(text).split(' ');
    if (words.includes('1')) {
      t.fail(`${JSON.stringify(text)} reads ${JSON.stringify(normalizeText(text))}`);
      return;
    }
    ones += words.filter((w) => w.includes('1')).length;
  }
  t.ok(ones > 1000, `${ones} words with an I read as 1, none alone`);
});

t.test('keywords - a long run of capital I\'s is looked at once, not once per I (a and 40,000 I took 14 s)', async (t) => {
  const index = KeywordIndex.build(['kill', 'hello']);
  const table = baseCharTable();
  for (const text of [`a${'I'.repeat(30_000)}`, `a${'I\u200b'.repeat(30_000)}`, `a ${'I '.repeat(100_000)}`, `a.${'I.'.repeat(100_000)}`]) {
    t.same(index.match(text), []);
    // The first I's reading is kept for its whole group: every later I of the run is read from it, without a look.
    const st = initialState();
    const first = text.indexOf('I');
    capitalIReading(text, table, first, st);
    t.ok(st.iFrom <= first && st.iTo >= text.lastIndexOf('I') + 1, `${JSON.stringify(text.slice(0, 6))}...: one group of ${st.iTo - st.iFrom} units`);
  }
});

t.test('keywords - a capital I reads alike whether the I\'s before it were read first or not (their reading is kept)', async (t) => {
  const rnd = seededRandom(0x1ce);
  const table = baseCharTable();
  const pieces = ['I', 'I', 'I', 'k', 'i', 'H', '1', ' ', ' ', '.', '-', '. ', '  ', '\u200b', '!', '@', ',', 'ß'];
  let checked = 0;
  for (let round = 0; round < 5000; round++) {
    const text = Array.from({ length: 1 + Math.floor(rnd() * 16) }, () => pieces[Math.floor(rnd() * pieces.length)]!).join('');
    const inOrder = initialState();
    for (let i = 0; i < text.length; i++) {
      if (table[text.charCodeAt(i)] !== CAPITAL_I) continue;
      const alone = capitalIReading(text, table, i, initialState());
      const kept = capitalIReading(text, table, i, inOrder);
      checked++;
      if (alone !== kept) {
        t.fail(`${JSON.stringify(text)} at ${i}: ${alone} read alone, ${kept} after the I's before it`);
        return;
      }
    }
  }
  t.ok(checked > 5000, `${checked} capital I's read both ways`);
});

t.test('keywords - reads ! and | at the end of a word as punctuation, however many (Hi!! fired hill, Bi!! bill)', async (t) => {
  const index = KeywordIndex.build(['kill', 'hill', 'spell', 'bill']);
  t.same(hits(index, 'Hi!! HI!! Thanks, hi!!! oh hi!! there Bi!! hi|| hi! ki! ki| wow!'), []);
  t.same(hits(index, 'ki!! spe!!. KI!!!'), [], 'the price: ki!! no longer spells kill');
  t.same(hits(index, 'k!ll ki!l ki|l'), ['0:k!ll', '0:ki!l', '0:ki|l'], 'inside a word they still read as 1');
  t.same(hits(index, 'kill!! hill!'), ['0:kill', '1:hill'], 'a term before them still matches');
});

t.test('keywords - writes up to 8 of a term\'s i and l as 1, the rest only as written', async (t) => {
  const term = 'lilililili'; // 10 positions, collapsed nowhere
  const index = KeywordIndex.build([term]);
  t.same(hits(index, '11111111li'), ['0:11111111li'], 'the first 8');
  t.same(hits(index, 'lilililil1'), [], 'the 9th and 10th only as written');
});

t.test('keywords - reads @ and $ as letters before a letter, and as punctuation too', async (t) => {
  const index = KeywordIndex.build(['badword', 'sample']);
  t.same(hits(index, 'b@dword'), ['0:b@dword']);
  t.same(hits(index, '$ample'), ['1:$ample']);
  t.same(hits(index, '@badword'), ['0:badword'], 'a mention: @ is read as punctuation too');
  t.same(hits(index, 'badword! badword$'), ['0:badword', '0:badword']);
  t.equal(normalizeText('$ample b@dword!'), 'sample badword');
});

t.test('keywords - reads @ and $ as letters at the end of a word too (pand@ and bo$$ did not match)', async (t) => {
  const index = KeywordIndex.build(['panda', 'boss', 'kiss', 'ninja']);
  t.same(hits(index, 'pand@ p@nd@ PAND@! pand@. bo$$ b0$$ ki$$ ninj@ (bo$s)'), [
    '0:pand@', '0:p@nd@', '0:PAND@', '0:pand@', '1:bo$$', '1:b0$$', '2:ki$$', '3:ninj@', '1:bo$s',
  ]);
  t.same(hits(index, 'panda$ panda@'), ['0:panda', '0:panda@'], 'and as punctuation, as before (a@ is a repeat)');
  t.equal(normalizeText('pand@ bo$$! hi! x @ y'), 'panda bos hi x y', '! stays punctuation; a symbol apart from a word too');
  const me = KeywordIndex.build(['me', 'i paid', 'hill', 'paid s']);
  t.same(hits(me, 'I paid 5$ for it; email me@home; me $ you; hi!'), ['1:I paid', '3:paid 5', '0:me', '0:me'],
    'no new word from a symbol apart from letters; $ after a digit and a single ! at the end are punctuation');
});

t.test('keywords - reads a trailing $ or @ as a letter only after a word with a letter (50$ read sos, A$ read as)', async (t) => {
  const index = KeywordIndex.build(['sos', 'as', 'us', 'boss', 'kiss']);
  t.same(hits(index, 'it costs 50$ or A$ 20, US$ 5, C$ 3, 7$'), ['2:US'], 'US is a word; 50$ is not sos, A$ not as');
  t.same(hits(index, 'bo$$ b0$$ ki$$ BO$$ A$$'), ['3:bo$$', '3:b0$$', '4:ki$$', '3:BO$$', '1:A$$']);
  t.equal(normalizeText('50$ A$ 20 pand@'), 'so a 2o panda');
});

t.test('keywords - reads a long run of symbols before a word both ways', async (t) => {
  const run = '@$'.repeat(200);
  const index = KeywordIndex.build([`${'as'.repeat(200)}x`, 'x', 'foo x']);
  t.same(hits(index, `${run}x`), [`0:${run}x`, '1:x']);
  t.equal(normalizeText(`${run}x`), `${'as'.repeat(200)}x`);
  const short = KeywordIndex.build(['foo x', 'as']);
  t.same(hits(short, `foo ${run}x`), [`0:foo ${run}x`], 'a phrase reaching back before a long stretch read two ways');
});

t.test('keywords - reads Cyrillic and Greek lookalikes as Latin letters in a word with Latin letters', async (t) => {
  const index = KeywordIndex.build(['secret phrase', 'opaque']);
  t.same(hits(index, 'sеcrеt phrаsе'), ['0:sеcrеt phrаsе'], 'Cyrillic е and а');
  t.same(hits(index, 'ΟΡΑQUΕ'), ['1:ΟΡΑQUΕ'], 'Greek capitals');
  t.same(hits(index, 'οpαque'), ['1:οpαque'], 'Greek small letters');
});

t.test('keywords - Russian and Greek words do not fire Latin terms (bot fired on вот, tot on тот, kak on как, het on нет, toy on του)', async (t) => {
  const index = KeywordIndex.build(['bot', 'tot', 'kak', 'het', 'toy', 'kette', 'mama', 'cop']);
  t.same(hits(index, 'Вот тот дом. Как дела? Нет, ВОТ ТОТ! мама сор'), []);
  t.same(hits(index, 'του ΤΟΥ Του'), []);
  t.same(hits(index, 'і від ёж'), [], 'Ukrainian і, ё');
  t.same(hits(index, 'КЕТТЕ кетте'), [], 'a word wholly in lookalikes next to a Russian one reads as Cyrillic');
  t.same(hits(index, 'Вot тоt kaк hет'), ['0:Вot', '1:тоt', '2:kaк', '3:hет'], 'a word with a Latin letter is evasion: its lookalikes read as Latin');
  t.equal(normalizeText('Вот КОТ Кettle'), 'вот кот ketle');
});

t.test('keywords - reads a word wholly in Cyrillic or Greek lookalikes as Latin too (кеу did not match key, рорру poppy)', async (t) => {
  const index = KeywordIndex.build(['key', 'poppy', 'secret phrase', 'kette']);
  t.same(hits(index, 'кеу рорру КЕУ РОРРУ'), ['0:кеу', '1:рорру', '0:КЕУ', '1:РОРРУ'], 'Cyrillic, small and capital');
  t.same(hits(index, 'ΚΕΥ ΡΟΡΡΥ'), ['0:ΚΕΥ', '1:ΡΟΡΡΥ'], 'Greek capitals');
  t.same(hits(index, 'a red рорру field, sесrеt рhrаsе'), ['1:рорру', '2:sесrеt рhrаsе'], 'in Latin text, and beside a mixed word');
  t.same(hits(index, 'р0рру к3у'), ['1:р0рру', '0:к3у'], 'digits are typed in any script: they do not stop it');
  t.same(hits(index, 'КЕТТЕ'), ['3:КЕТТЕ'], 'a word alone, with nothing to say it is Russian');
  t.equal(normalizeText('кеу рорру'), 'кеу рору', 'the normalised form shows the own-script reading');
});

t.test('keywords - a word wholly in lookalikes still matches a Cyrillic or Greek term in its own script', async (t) => {
  const index = KeywordIndex.build(['кот', 'kot', 'сор', 'cop', 'ΚΑΙ', 'kai']);
  t.same(hits(index, 'КОТ'), ['0:КОТ', '1:КОТ'], 'read both ways: it may be either');
  t.same(hits(index, 'сор'), ['2:сор', '3:сор']);
  t.same(hits(index, 'ΚΑΙ'), ['4:ΚΑΙ', '5:ΚΑΙ']);
  t.same(hits(index, 'кот'), ['0:кот'], 'a small т is no Latin t (it looks like a small capital): кот is Cyrillic only');
});

t.test('keywords - a word in lookalikes whose small letters look like small capitals stays Cyrillic or Greek (в, н, т, м; κ, τ, ε, χ)', async (t) => {
  const index = KeywordIndex.build(['bot', 'tot', 'het', 'mama', 'pot', 'toy', 'kat']);
  t.same(hits(index, 'вот тот нет мама рот Вот Нет Мама του κατ'), [], 'as UTS #39 has it: small в is ʙ, not b');
});

t.test('keywords - a word wholly in lookalikes stays Cyrillic or Greek next to a word only those scripts spell (ВОТ fired bot in Нет, ВОТ ТОТ!)', async (t) => {
  const index = KeywordIndex.build(['bot', 'tot', 'cop', 'toy', 'key']);
  t.same(hits(index, 'Нет, ВОТ ТОТ! ВОТ ТОТ ДОМ. мама сор. του ΤΟΥ. КЕУ 5 дом'), [], 'the neighbour of a run of such words decides for the run');
  t.same(hits(index, 'ВОТ ТОТ'), ['0:ВОТ', '1:ТОТ'], 'the price: all-capital Russian with no other word reads as Latin too');
  t.same(hits(index, 'the ВОТ, the КЕУ'), ['0:ВОТ', '4:КЕУ'], 'next to Latin words it is evasion');
});

t.test('keywords - a Russian word next to a Latin one across ! | @ $ stays Russian (нет fired het in Нет!OK)', async (t) => {
  const index = KeywordIndex.build(['bot', 'het']);
  t.same(hits(index, 'Нет!OK Вот!Here вот|here пиши вот@mail.ru Да|Yes Нет|No Нет$OK'), []);
  t.same(hits(index, 'Вot!OK hет|no'), ['0:Вot', '1:hет'], 'a Latin letter in the same piece still makes it mixed');
  t.equal(normalizeText('Нет!OK'), 'нет1ok');
});

t.test('keywords - reads Greek ν as v and υ as u in a mixed word, capitals Ν as n and Υ as y', async (t) => {
  const index = KeywordIndex.build(['love', 'lure', 'nose', 'yes']);
  t.same(hits(index, 'loνe lυre ΝOSE ΥES'), ['0:loνe', '1:lυre', '2:ΝOSE', '3:ΥES']);
  t.same(hits(index, 'loΝe'), [], 'capital Ν is n, not v');
});

t.test('keywords - reads digits and symbols as Latin letters but not as Latin for a word\'s script', async (t) => {
  const index = KeywordIndex.build(['kettle', 'kot']);
  t.same(hits(index, 'к3ttle К3ТТLЕ'), ['0:к3ttle', '0:К3ТТLЕ'], 'a Latin letter makes the word mixed');
  t.same(hits(index, 'к0т К0Т к@т'), [], 'a digit or symbol does not: a Russian word with a number stays Russian');
});

t.test('keywords - matches Cyrillic and Greek terms in either case (capitals read as lookalikes, small letters did not)', async (t) => {
  const index = KeywordIndex.build(['кот', 'мама', 'Вода', 'ΚΑΛΗΜΕΡΑ', 'панда', 'νερο', 'καλημερας']);
  t.same(hits(index, 'кот КОТ Кот'), ['0:кот', '0:КОТ', '0:Кот']);
  t.same(hits(index, 'мама МАМА Мама'), ['1:мама', '1:МАМА', '1:Мама']);
  t.same(hits(index, 'вода ВОДА Вода'), ['2:вода', '2:ВОДА', '2:Вода']);
  t.same(hits(index, 'καλημερα ΚΑΛΗΜΕΡΑ Καλημέρα'), ['3:καλημερα', '3:ΚΑΛΗΜΕΡΑ', '3:Καλημέρα']);
  t.same(hits(index, 'панда ПАНДА Панда'), ['4:панда', '4:ПАНДА', '4:Панда']);
  t.same(hits(index, 'νερο ΝΕΡΟ'), ['5:νερο', '5:ΝΕΡΟ'], 'Ν and ν alike');
  t.same(hits(index, 'ΚΑΛΗΜΕΡΑΣ'), ['6:ΚΑΛΗΜΕΡΑΣ'], 'Σ matches final ς');
  const latin = KeywordIndex.build(['kettle', 'panda']);
  t.same(hits(latin, 'Кettle кеттle ΚΕΤΤLΕ κεττlε ΡΑΝDΑ раndа'), ['0:Кettle', '0:кеттle', '0:ΚΕΤΤLΕ', '0:κεττlε', '1:ΡΑΝDΑ', '1:раndа'],
    'Latin lookalikes still match, capital or small');
});

t.test('keywords - joins letters split by separators', async (t) => {
  const index = KeywordIndex.build(['key']);
  for (const text of ['k.e.y', 'k-e-y', 'k_e_y', 'k*e*y', 'k~e~y', 'k..e--y', 'k–e–y']) {
    t.same(hits(index, `say ${text} now`), [`0:${text}`], text);
  }
  t.same(hits(index, '.key.'), ['0:key'], 'separators at the edges of a word are punctuation');
});

t.test('keywords - joins runs of three or more single letters separated by single spaces', async (t) => {
  const index = KeywordIndex.build(['key', 'ab']);
  t.same(hits(index, 'say k e y now'), ['0:k e y']);
  t.same(hits(index, 'K E Y'), ['0:K E Y']);
  t.same(hits(index, '(k e y)'), ['0:k e y']);
  t.same(hits(index, 'a b'), [], 'two single letters do not join');
  t.same(hits(index, 'k  e  y'), [], 'double spaces do not join');
  t.same(hits(index, 'say k\te\ty now'), ['0:k\te\ty'], 'tabs join like spaces (p\\ta\\tn\\td\\ta did not match)');
  t.same(hits(index, 'x k e y'), [], 'the run joins whole: x k e y reads xkey');
  t.equal(normalizeText('I a m here'), 'iam here');
});

t.test('keywords - joins spaced single letters parted by separators and spaces (p. a. n. d. a did not match)', async (t) => {
  const index = KeywordIndex.build(['panda', 'blue whale', 'tolkien']);
  for (const text of ['p. a. n. d. a', 'p . a . n . d . a', 'p - a - n - d - a', 'p- a- n- d- a', 'p _ a _ n _ d _ a', 'P. A. N. D. A.', 'p. a n - d a']) {
    t.same(hits(index, `say ${text} now`), [`0:${text.replace(/\.$/, '')}`], text);
  }
  t.same(hits(index, 'b. l. u. e  w. h. a. l. e'), ['1:b. l. u. e  w. h. a. l. e'], 'two spaces part the words of a phrase');
  t.same(hits(index, 'b l u e  w h a l e'), ['1:b l u e  w h a l e']);
  t.same(hits(index, 'p  a  n  d  a'), [], 'spaces alone join only one at a time');
  t.same(hits(index, 'p .  a .  n .  d .  a'), [], 'a gap of more than 3 characters parts the letters');
  t.same(hits(index, 'p.a. n.d. a'), [], 'letters a separator alone joins are a word, not a single letter');
  t.same(hits(index, 'J. R. R. Tolkien'), ['2:Tolkien'], 'initials join among themselves only');
  t.equal(normalizeText('e. g. the k. e. y. here'), 'e g the key here');
});

t.test('keywords - still matches a term next to a separator and another word', async (t) => {
  const index = KeywordIndex.build(['badword', 'secret phrase']);
  t.same(hits(index, 'badword.example'), ['0:badword']);
  t.same(hits(index, 'badword-ish'), ['0:badword']);
  t.same(hits(index, "badword's"), ['0:badword']);
  t.same(hits(index, 'mail@badword'), ['0:badword']);
  t.same(hits(index, 'secret-phrase'), ['1:secret-phrase']);
  t.same(hits(index, 'secret_phrase'), ['1:secret_phrase']);
  t.same(hits(index, 'bad.word'), ['0:bad.word'], 'and joined: bad.word reads badword');
});

t.test('keywords - collapses repeated letters (so good reads as god)', async (t) => {
  const index = KeywordIndex.build(['forbiddenword', 'good']);
  t.same(hits(index, 'fooorrrbiddddennnnword'), ['0:fooorrrbiddddennnnword']);
  t.same(hits(index, 'FORBIDENWORD'), ['0:FORBIDENWORD']);
  t.same(hits(index, 'god'), [], 'a short term\'s doubled letter must be doubled (good does not fire on god)');
  t.same(hits(index, 'gooood g00d'), ['1:gooood', '1:g00d']);
  t.equal(normalizeText('gooood'), 'god');
});

t.test('keywords - ignores zero-width and soft-hyphen characters inside words', async (t) => {
  const index = KeywordIndex.build(['badword']);
  t.same(hits(index, 'bad\u200bword bad\u00adword b\u200da\u2060dword'), ['0:bad\u200bword', '0:bad\u00adword', '0:b\u200da\u2060dword']);
});

t.test('keywords - does not fire inside innocent words', async (t) => {
  const index = KeywordIndex.build(['ass', 'ban']);
  t.same(hits(index, 'classic assessment passage bass brass assass banana urban abandon'), []);
  t.same(hits(index, 'ass, (ass) "ass" ass! ASS'), ['0:ass', '0:ass', '0:ass', '0:ass', '0:ASS']);
  t.same(hits(index, 'a ban'), ['1:ban']);
});

t.test('keywords - matches Chinese, Japanese and Thai terms inside sentences written without spaces', async (t) => {
  const index = KeywordIndex.build(['熊猫', 'パンダ', 'แพนด้า', 'bluefish', '猫', 'red 熊猫']);
  t.same(hits(index, '我喜欢熊猫'), ['0:熊猫', '4:猫']);
  t.same(hits(index, 'パンダが好き'), ['1:パンダ']);
  t.same(hits(index, 'ฉันชอบแพนด้ามาก'), ['2:แพนด้า']);
  t.same(hits(index, 'bluefish熊猫'), ['0:熊猫', '4:猫'], 'a Latin term still needs its boundary next to Han');
  t.same(hits(index, 'bluefishing xbluefish bluefish'), ['3:bluefish'], 'Latin whole words unchanged');
  t.same(hits(index, 'red熊猫 red 熊猫很'), ['0:熊猫', '4:猫', '5:red 熊猫', '0:熊猫', '4:猫'], 'a Latin edge keeps its boundary');
  t.same(hits(index, 'p@熊猫'), ['0:熊猫', '4:猫'], 'in both readings, once');
  t.same(hits(index, '熊猫\u0301!'), ['0:熊猫\u0301', '4:猫\u0301'], 'a mark after the last letter is part of the match');
});

t.test('keywords - keeps the marks of Thai and kana (ผี fired on ผมชอบกาแฟ, ぶた on ふたりで行きます)', async (t) => {
  const index = KeywordIndex.build(['ผี', 'ぶた', 'ガ']);
  t.same(hits(index, 'ผมชอบกาแฟ ふたりで行きます カ'), []);
  t.same(hits(index, 'ฉันกลัวผีมาก ぶたが好き'), ['0:ผี', '1:ぶた']);
  t.same(hits(index, 'ふ\u3099た ｶﾞ'), ['1:ふ\u3099た', '2:ｶﾞ'], 'decomposed and half-width alike');
  const consonant = KeywordIndex.build(['ผ']);
  t.same(hits(consonant, 'ผี ผม'), ['0:ผ'], 'a mark after the last letter belongs to it: ผ is not in ผี');
  t.equal(normalizeText('ผี'), 'ผ\u0e35');
});

t.test('keywords - drops a Thai, kana or Indic mark sitting on a Latin letter (bad+U+0E31+word no longer matched badword)', async (t) => {
  const index = KeywordIndex.build(['badword', 'kill', 'secret phrase']);
  for (const text of ['bad\u0E31word', 'badword\u0E31', 'bad\u3099word', 'bad\u093Eword', 'badwor\u0D3Ed']) {
    t.same(hits(index, text), [`0:${text}`], JSON.stringify(text));
  }
  t.same(hits(index, '\u0E31badword'), ['0:badword'], 'a mark on no letter');
  t.same(hits(index, 'ki\u0E47ll kil\u0E48l'), ['1:ki\u0E47ll', '1:kil\u0E48l']);
  t.same(hits(index, 'secret\u0E49 phrase'), ['2:secret\u0E49 phrase']);
  t.same(hits(index, 'bad\u0E31\u0E48word ba\u0E31adword'), ['0:bad\u0E31\u0E48word', '0:ba\u0E31adword'], 'two marks; a repeat across one');
  const thai = KeywordIndex.build(['ผ', 'ที่']);
  t.same(hits(thai, 'ผี ที่ ผ'), ['1:ที่', '0:ผ'], 'on a Thai letter, and on a mark that sits on one, a mark stays a letter');
});

t.test('keywords - reads accented Latin letters through the table, without folding the text (ñ was folded: U+0303 lists Thai)', async (t) => {
  const table = baseCharTable();
  for (const c of 'ñõṇḁ') t.equal(table[c.charCodeAt(0)], c.normalize('NFKD').charCodeAt(0), c);
});

t.test('keywords - treats half-width and spacing kana voicing marks as marks (タ fired on ﾀﾞ, ﾊﾟﾝﾀﾞ, ﾀ゛)', async (t) => {
  const index = KeywordIndex.build(['タ', 'ダ', 'パンダ']);
  t.same(hits(index, 'ﾀﾞ'), ['1:ﾀﾞ']);
  t.same(hits(index, 'ﾊﾟﾝﾀﾞ'), ['2:ﾊﾟﾝﾀﾞ', '1:ﾀﾞ']);
  t.same(hits(index, 'ﾀ゛ た゛ ﾀﾟ タ゜'), ['1:ﾀ゛']);
  t.same(hits(index, 'ﾀ タ'), ['0:ﾀ', '0:タ']);
  t.equal(normalizeText('ﾀ゛'), normalizeText('ダ'));
});

t.test('keywords - does not collapse repeats in Chinese, Japanese or Thai (猫猫 fired on 我喜欢熊猫)', async (t) => {
  const index = KeywordIndex.build(['猫猫', 'ここ', '熊猫']);
  t.same(hits(index, '我喜欢熊猫 こちら'), ['2:熊猫']);
  t.same(hits(index, '我的猫猫 ここです 熊熊猫'), ['0:猫猫', '1:ここ', '2:熊猫']);
  t.equal(normalizeText('猫猫 gooood'), '猫猫 god', 'Latin repeats still collapse');
});

t.test('keywords - collapses repeats in Arabic, Hebrew, Devanagari and other spaced scripts (مرحباااا no longer matched مرحبا)', async (t) => {
  const index = KeywordIndex.build(['مرحبا', 'שלום', 'नमस्ते', 'բարեւ', 'გამარჯობა']);
  t.same(hits(index, 'مرحباااا مررحبا'), ['0:مرحباااا', '0:مررحبا']);
  t.same(hits(index, 'שלוםםם'), ['1:שלוםםם']);
  t.same(hits(index, 'नमस्तेे'), ['2:नमस्तेे']);
  t.same(hits(index, 'բարրեւ გამარჯობაა'), ['3:բարրեւ', '4:გამარჯობაა']);
  t.same(hits(index, 'مَرْحَبًا שָׁלוֹם'), ['0:مَرْحَبًا', '1:שָׁלוֹם'], 'Arabic and Hebrew points, Indic vowel signs dropped as before');
  t.equal(normalizeText('مرحباااا 猫猫'), 'مرحبا 猫猫', 'unspaced scripts keep theirs');
});

t.test('keywords - matches phrases across any run of spaces and punctuation', async (t) => {
  const index = KeywordIndex.build(['secret phrase']);
  for (const gap of [' ', '   ', '\n', '\t', ', ', ' - ', '!?! ', ' ... ', '\u00a0', '\u3000']) {
    const text = `the secret${gap}phrase here`;
    t.same(hits(index, text), [`0:secret${gap}phrase`], JSON.stringify(gap));
  }
  t.same(hits(index, 'secretphrase'), [], 'the words must be apart');
  t.same(hits(index, 'secret phrases'), [], 'whole words');
  t.same(hits(index, 'a secret phrase secret phrase'), ['0:secret phrase', '0:secret phrase']);
});

t.test('keywords - reports overlapping terms and duplicate terms each', async (t) => {
  const index = KeywordIndex.build(['bad', 'bad word', 'word', 'badword', 'bad word', 'word bad']);
  t.same(hits(index, 'bad word bad'), [
    '0:bad', '1:bad word', '4:bad word', '2:word', '5:word bad', '0:bad',
  ]);
  const ms = index.match('bad word');
  t.same(ms.map((m) => [m.entry, m.start, m.end]), [[0, 0, 3], [1, 0, 8], [4, 0, 8], [2, 4, 8]], 'ordered by end, start, entry');
});

t.test('keywords - maps offsets back to the original text', async (t) => {
  const index = KeywordIndex.build(['badword', 'secret phrase']);
  const text = '😀 Ünïcödé 𝐱 b\u0301a\u0301dword, then s.e.c.r.e.t   phraaase!';
  const ms = index.match(text);
  t.same(ms.map((m) => text.slice(m.start, m.end)), ['b\u0301a\u0301dword', 's.e.c.r.e.t   phraaase']);
  t.same(ms.map((m) => m.entry), [0, 1]);
  const spaced = 'x  b a d w o r d  y';
  t.same(hits(index, spaced), ['0:b a d w o r d']);
});

t.test('keywords - maps offsets back across characters that fold to more or fewer units', async (t) => {
  const index = KeywordIndex.build(['strasse', 'badword', 'finale']);
  const text = '“Straße” 🙂… 𝒃𝒂𝒅𝒘𝒐𝒓𝒅 ﬁnale';
  t.same(hits(index, text), ['0:Straße', '1:𝒃𝒂𝒅𝒘𝒐𝒓𝒅', '2:ﬁnale']);
  t.equal(normalizeText(text), 'strase badword finale');
});

t.test('keywords - handles an empty list, an empty text and a text with nothing to match', async (t) => {
  const none = KeywordIndex.build([]);
  t.equal(none.size, 0);
  t.same(none.match('anything at all'), []);
  t.same(none.match(''), []);
  const index = KeywordIndex.build(['badword']);
  t.same(index.match(''), []);
  t.same(index.match('   ...!!! '), []);
  t.same(index.match('\u0301\u200b'), []);
});

t.test('keywords - rejects a term that normalises to nothing, naming its index', async (t) => {
  for (const bad of ['', '   ', '!!!', '...', '\u0301', '@$']) {
    const err = t.throws(() => KeywordIndex.build(['badword', 'fine', bad]));
    t.ok(err instanceof KeywordTermError, JSON.stringify(bad));
    t.equal((err as KeywordTermError).code, 'LIST_INVALID');
    t.equal((err as KeywordTermError).index, 2);
    t.match((err as Error).message, /^term 2: /);
    t.equal(normalizeText(bad), '', 'the importer can find it first with normalizeText');
  }
});

t.test('keywords - matches in a very long text', async (t) => {
  const index = KeywordIndex.build(['badword', 'secret phrase', 'zorvak']);
  const filler = 'the quick brown fox jumps over the lazy dog, again. '.repeat(40_000); // ~2 MB
  const text = `badword ${filler}secret phrase ${filler}z-o-r-v-a-k`;
  const ms = index.match(text);
  t.same(ms.map((m) => m.entry), [0, 1, 2]);
  t.same(ms.map((m) => text.slice(m.start, m.end)), ['badword', 'secret phrase', 'z-o-r-v-a-k']);
  t.equal(ms[2]!.end, text.length);
});

t.test('keywords - matches a long phrase term', async (t) => {
  const words = Array.from({ length: 120 }, (_, i) => `w${String.fromCharCode(97 + (i % 26))}x${i % 7}`);
  const term = words.join(' ');
  const index = KeywordIndex.build([term, 'wax']);
  const text = `before ${words.join(' -- ')} after`;
  const ms = index.match(text);
  t.equal(ms.length, 1);
  t.equal(text.slice(ms[0]!.start, ms[0]!.end), words.join(' -- '));
});

t.test('keywords - keeps no state between calls', async (t) => {
  const index = KeywordIndex.build(['secret phrase', 'badword']);
  t.same(hits(index, 'a secret'), []);
  t.same(hits(index, 'phrase'), [], 'the phrase does not continue from the previous text');
  t.same(hits(index, 'x b-a-d'), []);
  t.same(hits(index, 'word'), []);
  const text = 'secret phrase, b.a.d.w.o.r.d and badword';
  t.same(hits(index, text), hits(index, text));
});

t.test('keywords - normalizeText shows the normalised form', async (t) => {
  t.equal(normalizeText('Hello, World!'), 'helo world');
  t.equal(normalizeText('  F0RB1DD3N   w0rd '), 'forb1den word');
  t.equal(normalizeText('k.e.y k e y'), 'key key');
  t.equal(normalizeText('Ｃａｆé'), 'cafe');
  t.equal(normalizeText(''), '');
  t.equal(normalizeText('x'.repeat(20_000) + ' y'), 'x y', 'long inputs');
});

t.test('keywords - refuses to be used after dispose', async (t) => {
  const index = KeywordIndex.build(['badword']);
  const shared = index.toShared();
  index.dispose();
  t.throws(() => index.match('badword'));
  t.same(hits(KeywordIndex.fromShared(shared), 'badword'), ['0:badword'], 'the shared memory stays usable');
});

t.test('keywords - fromShared wraps the same memory and gives the same results', async (t) => {
  const terms = ['badword', 'secret phrase', 'forbiddenword', 'badword'];
  const index = KeywordIndex.build(terms);
  const shared = index.toShared();
  for (const key of ['charClasses', 'transitions', 'outputStart', 'outputs', 'patternEntry', 'patternLength', 'depthStart', 'needsLetter'] as const) {
    t.ok(shared[key] instanceof SharedArrayBuffer, key);
  }
  t.same(structuredClone(shared), shared, 'structured-clonable');
  const copy = KeywordIndex.fromShared(shared);
  t.equal(copy.size, 4);
  t.equal(copy.toShared().transitions, shared.transitions, 'same buffer, not a copy');
  const text = 'a b@dword, s e c r e t phrase and f0rbiddenw0rd-like';
  t.same(copy.match(text), index.match(text));
  t.ok(copy.match(text).length >= 4);
  t.throws(() => KeywordIndex.fromShared({ ...shared, layout: 99 }));
  t.throws(() => KeywordIndex.fromShared({ ...shared, stateCount: shared.stateCount + 1 }));
});

t.test('keywords - a worker thread matches with the posted shared index', async (t) => {
  const index = KeywordIndex.build(['badword', 'secret phrase', 'zorvak']);
  const text = 'one badword, a s.e.c.r.e.t phrase, and Z0RVAK';
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.module).then(({ KeywordIndex }) => {
      const shared = workerData.shared;
      const isShared = shared.transitions instanceof SharedArrayBuffer;
      parentPort.postMessage({ isShared, matches: KeywordIndex.fromShared(shared).match(workerData.text) });
    });`;
  const module = new URL('../../matchers/keywords/index.js', import.meta.url).href;
  const shared: SharedKeywordIndex = index.toShared();
  const reply = await new Promise<{ isShared: boolean; matches: KeywordMatch[] }>((resolve, reject) => {
    const worker = new Worker(source, { eval: true, workerData: { module, shared, text } });
    worker.once('message', (m) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
  t.ok(reply.isShared, 'the worker received shared memory');
  t.same(reply.matches, index.match(text));
  t.equal(reply.matches.length, 3);
});

// ---- Randomised cross-checks against a naive reference ----

const CONSONANTS = 'bcdfgkmnprstvz';
const VOWELS = 'aeou'; // no i: the reference need not know that i and l are one letter
const DIGIT_FOR: Record<string, string> = { o: '0', e: '3', a: '4', s: '5', t: '7' };
const ACCENTED: Record<string, string> = { a: 'á', e: 'è', o: 'ö', u: 'û', c: 'ç', n: 'ñ' };
const CYRILLIC: Record<string, string> = { a: 'а', e: 'е', o: 'о', c: 'с', p: 'р' };

function pseudoWord(rnd: () => number): string {
  const syllables = 1 + Math.floor(rnd() * 3);
  let w = '';
  for (let i = 0; i < syllables; i++) {
    w += CONSONANTS[Math.floor(rnd() * CONSONANTS.length)]! + VOWELS[Math.floor(rnd() * VOWELS.length)]!;
  }
  return w;
}

/**
 * Disguises a word with the rules that keep a single reading: case, digits, accents, lookalikes, repeats.
 * The first letter stays a Latin letter, so that a Cyrillic lookalike is always in a word with a Latin
 * letter (a word wholly of lookalikes and digits reads as Cyrillic).
 */
function disguise(word: string, rnd: () => number): string {
  let out = '';
  for (const ch of word) {
    const x = rnd();
    let c = ch;
    if (out === '' && x < 0.1) c = ch;
    else if (x < 0.1 && DIGIT_FOR[ch] !== undefined) c = DIGIT_FOR[ch];
    else if (x < 0.2 && ACCENTED[ch] !== undefined) c = ACCENTED[ch];
    else if (out === '' && x < 0.25) c = ch;
    else if (x < 0.25 && CYRILLIC[ch] !== undefined) c = CYRILLIC[ch];
    else if (x < 0.4) c = ch.toUpperCase();
    if (rnd() < 0.1) c = c.repeat(2 + Math.floor(rnd() * 2));
    out += c;
  }
  return out;
}

/** The naive reference: fold each character, keep letters, collapse repeats and gaps. */
function reference(text: string): string {
  const folded = [...text].map((ch) => {
    const base = ch.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
    const cyr = Object.entries(CYRILLIC).find(([, v]) => v === ch.toLowerCase());
    const latin = cyr ? cyr[0] : base;
    const digit = Object.entries(DIGIT_FOR).find(([, v]) => v === latin);
    return digit ? digit[0] : latin;
  }).join('');
  return folded.replace(/[^a-z]+/g, ' ').replace(/([a-z])\1+/g, '$1').trim();
}

function countWhole(haystack: string, needle: string): number {
  const h = ` ${haystack} `;
  const n = ` ${needle} `;
  let count = 0;
  for (let at = h.indexOf(n); at !== -1; at = h.indexOf(n, at + 1)) count++;
  return count;
}

t.test('keywords - agrees with a naive reference matcher on random text', async (t) => {
  const rnd = seededRandom(20240611);
  const terms = Array.from({ length: 300 }, () => (rnd() < 0.2 ? `${pseudoWord(rnd)} ${pseudoWord(rnd)}` : pseudoWord(rnd)));
  const index = KeywordIndex.build(terms);
  const gaps = [' ', ' ', ' ', '  ', ', ', '. ', '\n', ' (', ') ', '? '];
  let checked = 0;
  for (let round = 0; round < 40; round++) {
    const words: string[] = [];
    for (let i = 0; i < 200; i++) {
      const source = rnd() < 0.15 ? terms[Math.floor(rnd() * terms.length)]! : pseudoWord(rnd);
      words.push(source.split(' ').map((w) => disguise(w, rnd)).join(gaps[Math.floor(rnd() * gaps.length)]!));
    }
    let text = '';
    for (const w of words) text += w + gaps[Math.floor(rnd() * gaps.length)]!;
    const normalized = reference(text);
    t.equal(normalizeText(text), normalized, `round ${round}: normalizeText agrees with the reference`);
    const ms = index.match(text);
    const counts = new Map<number, number>();
    for (const m of ms) {
      counts.set(m.entry, (counts.get(m.entry) ?? 0) + 1);
      if (reference(text.slice(m.start, m.end)) !== reference(terms[m.entry]!)) {
        t.fail(`round ${round}: excerpt ${JSON.stringify(text.slice(m.start, m.end))} is not term ${m.entry}`);
      }
    }
    terms.forEach((term, e) => {
      const expected = countWhole(normalized, reference(term));
      if ((counts.get(e) ?? 0) !== expected) t.fail(`round ${round}: term ${e} found ${counts.get(e) ?? 0} times, reference ${expected}`);
      checked += expected;
    });
  }
  t.ok(checked > 500, `the data exercised the matcher (${checked} reference matches)`);
});

/**
 * The rows of spaced letters in `s` (small letters, `.`, `-`, spaces and other punctuation) joined, by the rule
 * written out afresh: words are pieces when they are one letter, or two parted by separators (`k`, `k.i`); a
 * gap is one space, or up to 3 spaces and separators with both among them, between letters; a piece of two
 * letters stands in a row only where each gap beside it is a single space; 3 or more pieces parted by gaps join.
 */
function joinSpacedRows(s: string): string {
  const tokens = s.match(/[a-z@$]+(?:[-.]+[a-z@$]+)*|[^a-z@$]+/g) ?? [];
  const isWord = (k: number): boolean => /^[a-z@$]/.test(tokens[k] ?? '');
  const isPiece = (k: number): boolean => /^[a-z](?:[-.]+[a-z])?$/.test(tokens[k] ?? '');
  // A gap token `k`, between two words whose letters face it; 'plain' for a single space.
  const gapKind = (k: number): 'plain' | 'mixed' | undefined => {
    const g = tokens[k] ?? '';
    if (!isWord(k - 1) || !isWord(k + 1) || !/[a-z]$/.test(tokens[k - 1]!) || !/^[a-z]/.test(tokens[k + 1]!)) return undefined;
    if (g === ' ') return 'plain';
    return /^[ .-]{2,3}$/.test(g) && g.includes(' ') && /[.-]/.test(g) ? 'mixed' : undefined;
  };
  const member = (k: number): boolean => isPiece(k) && (!/[-.]/.test(tokens[k]!) || (gapKind(k - 1) !== 'mixed' && gapKind(k + 1) !== 'mixed'));
  const out: string[] = [];
  for (let k = 0; k < tokens.length;) {
    let end = k;
    if (member(k)) while (gapKind(end + 1) !== undefined && member(end + 2)) end += 2;
    if (end - k >= 4) {
      out.push(tokens.slice(k, end + 1).join('').replace(/[ .-]/g, ''));
      k = end + 1;
    } else {
      out.push(tokens[k]!);
      k++;
    }
  }
  return out.join('');
}

/** Reference readings of text with separators, leading symbols and spaced letters. */
function referenceReading(text: string, reading: 'main' | 'alt'): string {
  let s = text.toLowerCase();
  if (reading === 'main') {
    s = joinSpacedRows(s);
    s = s.replace(/(?<=[a-z])[-.]+(?=[a-z@$])/g, '');
    s = s.replace(/[@$]+(?=[a-z])/g, (run) => run.replace(/@/g, 'a').replace(/\$/g, 's'));
  }
  return s.replace(/[^a-z]+/g, ' ').replace(/([a-z])\1+/g, '$1').trim();
}

t.test('keywords - finds every reference match on random text with separators, symbols and spaced letters', async (t) => {
  const rnd = seededRandom(77);
  const terms = Array.from({ length: 200 }, () => (rnd() < 0.3 ? `${pseudoWord(rnd)} ${pseudoWord(rnd)}` : pseudoWord(rnd)));
  const index = KeywordIndex.build(terms);
  let checked = 0;
  let found = 0;
  for (let round = 0; round < 40; round++) {
    const parts: string[] = [];
    for (let i = 0; i < 150; i++) {
      const x = rnd();
      const word = rnd() < 0.3 ? terms[Math.floor(rnd() * terms.length)]! : pseudoWord(rnd);
      if (x < 0.15) parts.push(word.split('').join(rnd() < 0.5 ? '.' : '-').replace(/[-.] [-.]/g, ' '));
      else if (x < 0.25) parts.push(word.replace(/ /g, '-'));
      else if (x < 0.35) parts.push(`@${word}`);
      else if (x < 0.45) parts.push(`${word}.${pseudoWord(rnd)}`);
      else if (x < 0.55 && !word.includes(' ')) parts.push(word.split('').join(' '));
      else if (x < 0.62 && !word.includes(' ')) parts.push(word.split('').join(['. ', ' . ', ' - ', '- ', '  '][Math.floor(rnd() * 5)]!));
      else parts.push(word);
    }
    const text = parts.join(rnd() < 0.5 ? ' ' : ', ');
    const main = referenceReading(text, 'main');
    const ms = index.match(text);
    found += ms.length;
    const counts = new Map<number, number>();
    for (const m of ms) {
      counts.set(m.entry, (counts.get(m.entry) ?? 0) + 1);
      const excerpt = text.slice(m.start, m.end);
      const term = referenceReading(terms[m.entry]!, 'main');
      if (referenceReading(excerpt, 'main') !== term && referenceReading(excerpt, 'alt') !== term) {
        t.fail(`round ${round}: excerpt ${JSON.stringify(excerpt)} is not term ${m.entry} in either reading`);
      }
    }
    terms.forEach((term, e) => {
      const expected = countWhole(main, referenceReading(term, 'main'));
      if ((counts.get(e) ?? 0) < expected) t.fail(`round ${round}: term ${e} found ${counts.get(e) ?? 0} times, reference ${expected}`);
      checked += expected;
    });
    t.equal(normalizeText(text), main, `round ${round}: normalizeText agrees with the reference main reading`);
  }
  t.ok(checked > 300, `the data exercised the matcher (${checked} reference matches)`);
  t.ok(found - checked > 200, `and the alternative reading (${found - checked} matches beyond the main reading's)`);
});

// ---- Differential check of the scanner against a simple whole-text implementation ----

/**
 * The plainest implementation of the same semantics: the whole text's unit stream, each reading run over
 * all of it with its own automaton state, starts found by walking back over the units.
 */
function simpleMatch(shared: SharedKeywordIndex, text: string): KeywordMatch[] {
  const T = new Int32Array(shared.transitions);
  const outputStart = new Int32Array(shared.outputStart);
  const outputs = new Int32Array(shared.outputs);
  const patternEntry = new Int32Array(shared.patternEntry);
  const patternLength = new Int32Array(shared.patternLength);
  const table = new Int32Array(shared.charClasses);
  const folded = foldText(text, table);
  const plainFrom = shared.plainFrom;
  // A text is matched in each reading of its words wholly in lookalikes: Cyrillic or Greek, and Latin where they may be.
  const scan = (src: string): KeywordMatch[] => {
    const buf = new UnitBuffer();
    let m = produceUnits(src, table, buf, 0, src.length, initialState(plainFrom, [shared.iClass, shared.oneClass]));
    buf.reserve(m + 1);
    buf.cls[m] = 0;
    buf.pos[m++] = src.length;
    const run = (reading: (unit: number) => number): KeywordMatch[] => {
      const found: KeywordMatch[] = [];
      let s = shared.startState;
      let prev = 0;
      for (let j = 0; j < m; j++) {
        const c = reading(buf.cls[j]!);
        if (c < 0 || (c === prev && c < plainFrom)) continue;
        prev = c;
        s = T[s + c]!;
        if (s >= 0) continue;
        s = ~s;
        const id = s / shared.classCount;
        for (let o = outputStart[id]!; o < outputStart[id + 1]!; o++) {
          const pattern = outputs[o]!;
          const entry = patternEntry[pattern]!;
          let runs = 0;
          let current = -2;
          let first = j; // a one-letter pattern with no boundary after it begins where it ends
          for (let u = j - 1; u >= 0; u--) {
            const x = reading(buf.cls[u]!);
            if (x < 0) continue;
            if (x !== current || x >= plainFrom) {
              if (++runs > patternLength[pattern]! - 2) break;
              current = x;
            }
            first = u;
          }
          // A pattern that ends with a letter (an unspaced script) ends past it and any dropped marks after
          // it, and not where a mark that is a letter follows.
          let end = buf.pos[j]!;
          if (c !== 0) for (end++; end < src.length && table[src.charCodeAt(end)] === DROP; end++);
          if (c !== 0 && end < src.length) {
            // Judged in the original text, by the reference's own rule rather than the matcher's `isKeptMark`.
            let q = originalIndex(folded, end);
            if (q === originalIndex(folded, end - 1)) continue; // a mark folded out of the same character (ぶ)
            while (q < text.length && table[text.charCodeAt(q)] === DROP) q++;
            if (q < text.length && REFERENCE_KEPT_MARK.test(text[q]!)) continue;
          }
          found.push({ entry, distance: 0, threshold: 0, start: buf.pos[first]!, end });
        }
      }
      return found;
    };
    return mergeReadings(run(mainClass), run(altClass));
  };
  // Both readings where a term has a Cyrillic or Greek letter that passes for a Latin one, else the Latin one alone.
  const ownScript = OWN_LETTERS.some((_, k) => table[OWN_LETTER_BASE + k] !== OTHER_WORD);
  const latin = folded.latinText;
  const out = latin === undefined ? scan(folded.text) : ownScript ? mergeReadings(scan(folded.text), scan(latin)) : scan(latin);
  const needsLetter = new Int32Array(shared.needsLetter);
  return out.map((x) => ({ ...x, start: originalIndex(folded, x.start), end: originalIndex(folded, x.end) }))
    .filter((x) => matchKept(text, x, needsLetter[x.entry]!));
}

t.test('keywords - the scanner agrees with a simple whole-text implementation on random text', async (t) => {
  const rnd = seededRandom(4242);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const letters = 'abdeiklorst';
  const word = (): string => Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => pick([...letters])).join('');
  const terms = Array.from({ length: 80 }, () => (rnd() < 0.25 ? `${word()} ${word()}` : word()));
  terms.push('b@d', 'k3y', 'a$$', 'l1l', '熊猫', '猫', 'パンダ', 'aパ', 'แพนด้า', '猫猫', 'ผี', 'ผ', 'ぶた', 'ふ', 'кот', 'kot', 'タ', 'た', 'パン');
  const index = KeywordIndex.build(terms.filter((x) => normalizeText(x) !== ''));
  // And one with no term in Cyrillic, which reads a word wholly in lookalikes as Latin alone.
  const latinOnly = KeywordIndex.build(terms.filter((x) => normalizeText(x) !== '' && x !== 'кот'));
  const indexes = [index, latinOnly].map((ix) => ({ ix, shared: ix.toShared() }));
  const pieces = [' ', ' ', ' ', '  ', '.', '-', '_', '*', '/', '@', '$', '!', '|', ', ', '. ', '\n', 'é', 'Ö', 'ß', 'ﬁ', '🙂', '\u200b', '\u0301', 'е', '0', '1', '3', '4', '5', '7', '’', '–',
    '@$'.repeat(50), 'a-b-'.repeat(40), 'k a '.repeat(40), 'a.'.repeat(70), '熊', '猫', 'パンダ', 'ダ', 'แพนด้า', '\u0e49',
    '猫猫', 'ぶ', 'ふ\u3099', 'ｶﾞ', 'ผี', 'ผ', '\u0e35', 'К', 'о', 'т', 'ﾀ', 'タ', 'た', 'ﾞ', 'ﾟ', '゛', '゜', '\u3099', 'ﾊﾟﾝ',
    'I', 'II', 'I I', 'I.', 'kiII', 'heIIo', 'It', 'k i I I', 'k.i.I.I', 'I\u200bI', ' I ', '.I', 'k.i I I', 'h.e.I I', 'x.y. I I', ' I.I'];
  let compared = 0;
  for (let round = 0; round < 400; round++) {
    let text = '';
    const length = 1 + Math.floor(rnd() * 60);
    for (let i = 0; i < length; i++) {
      const x = rnd();
      if (x < 0.35) text += rnd() < 0.3 ? pick(terms) : word();
      else if (x < 0.5) text += word().split('').join(' ');
      else if (x < 0.6) text += word().split('').join(pick(['.', '-', '@', '$']));
      else if (x < 0.66) text += word().split('').join(pick(['. ', ' . ', ' - ', '-  ', '  ', ' \u200b.']));
      else text += pick(pieces);
      if (rnd() < 0.1) text = text.toUpperCase();
    }
    const differ = indexes.find(({ ix, shared }) => {
      const expected = simpleMatch(shared, text);
      compared += expected.length;
      return JSON.stringify(ix.match(text)) !== JSON.stringify(expected);
    });
    if (differ !== undefined) {
      t.same(differ.ix.match(text), simpleMatch(differ.shared, text), `round ${round}: ${JSON.stringify(text)}`);
      break;
    }
  }
  t.ok(compared > 2000, `compared ${compared} matches`);
});

t.test('keywords - a short term that doubles a letter needs it doubled (ass fired on every as, toll on tool)', async (t) => {
  const index = KeywordIndex.build(['ass', 'toll', 'forbiddenword', 'hill']);
  t.same(hits(index, 'as well as, As AS tool Tool'), [], 'the word with the letter once is another word');
  t.same(hits(index, 'ass a$$ a55 asss A.S.S toll to11 tolll'), ['0:ass', '0:a$$', '0:a55', '0:asss', '0:A.S.S', '1:toll', '1:to11', '1:tolll']);
  t.same(hits(index, 'hi11 hiII hi1l'), ['3:hi11', '3:hiII', '3:hi1l'], 'a character that stands for i or l counts');
  t.same(hits(index, 'forbidenword'), ['2:forbidenword'], 'a longer term still matches with a doubled letter written once');
  t.same(hits(index, 'аss'), ['0:аss'], 'a match with a character outside plain ASCII is kept (a lookalike evasion)');
});
