import t from 'tap';
import { parseDuration, DurationError } from '../../src/util/duration.ts';

t.test('parses Go durations', async (t) => {
  t.equal(parseDuration('1h30m'), 5_400_000);
  t.equal(parseDuration('500ms'), 500);
  t.equal(parseDuration('2.5s'), 2500);
  t.equal(parseDuration('0'), 0);
});
t.test('rejects malformed', async (t) => {
  for (const bad of ['', '5', 's', '5x', '1h 30m', '-1s', '1.s']) t.throws(() => parseDuration(bad), DurationError, bad);
});
