import t from 'tap';
import { MAX_RANGES, SeqHoles } from '../../ingest/seq-holes.js';

const holes = (h: SeqHoles, upTo: number): number[] => {
  const out: number[] = [];
  for (let s = 1; s <= upTo; s++) if (h.has(s)) out.push(s);
  return out;
};

t.test('seq holes - gaps between accepted seqs, and seqs refused late, merged into ranges', async (t) => {
  const h = new SeqHoles(1);
  h.accepted(0, 1);
  h.accepted(1, 2);
  t.same(holes(h, 10), [], 'consecutive seqs leave no hole');
  h.accepted(2, 5);
  t.same(holes(h, 10), [3, 4]);
  h.accepted(5, 6);
  h.refused(5);
  t.same(holes(h, 10), [3, 4, 5], 'a late refusal touching a gap joins it');
  t.equal(h.ranges, 1);
  h.accepted(6, 9);
  h.refused(2);
  t.same(holes(h, 10), [2, 3, 4, 5, 7, 8], 'one landing before later gaps is put in order');
  t.equal(h.ranges, 2);
  h.truncateAbove(7);
  t.same(holes(h, 10), [2, 3, 4, 5, 7], 'a failed commit forgets what was above it');
  h.truncateAbove(4);
  t.same(holes(h, 10), [2, 3, 4]);
});

t.test('seq holes - nothing below the floor is known, and the oldest ranges give way to the cap', async (t) => {
  const h = new SeqHoles(100);
  h.accepted(99, 150);
  t.same(holes(h, 150).slice(0, 2), [100, 101], 'the gap starts at the floor');
  t.notOk(h.has(50), 'below the floor: taken as stored');
  let seq = 150;
  for (let i = 0; i < MAX_RANGES + 10; i++) { h.accepted(seq, seq + 2); seq += 2 }
  t.equal(h.ranges, MAX_RANGES);
  t.notOk(h.has(101), 'the oldest range is forgotten');
  t.ok(h.has(seq - 1), 'the newest is kept');
});
