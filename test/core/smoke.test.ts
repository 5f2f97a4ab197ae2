import t from 'tap';
import { EVENT_CATEGORY } from '../../core/events.js';

t.test('core - maps every event type to its scope category', async (t) => {
  t.equal(EVENT_CATEGORY.text, 'keyboard');
  t.equal(EVENT_CATEGORY.tamper, 'heartbeat');
});
