import t from 'tap';
import { CycleState, stateKey } from '../../src/plugins/cycle-state.ts';

t.test('readOrCompute computes once per state, an undefined value too', async (t) => {
  const Count = stateKey<number>('test/count');
  const Nothing = stateKey<string | undefined>('test/nothing');
  const state = new CycleState();
  let computed = 0;
  t.equal(
    state.readOrCompute(Count, () => ++computed),
    1,
  );
  t.equal(
    state.readOrCompute(Count, () => ++computed),
    1,
    'kept',
  );
  t.equal(
    state.readOrCompute(Nothing, () => (computed++, undefined)),
    undefined,
  );
  t.equal(
    state.readOrCompute(Nothing, () => (computed++, 'late')),
    undefined,
    'a stored undefined is a value',
  );
  t.equal(computed, 2);
  t.equal(new CycleState().read(Count), undefined, 'another call starts empty');
});
