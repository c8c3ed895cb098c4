import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, cpuNode, pod, runScore } from 'neuronetes/testing';
import { zonePreference } from '../src/index.ts';

const nodes = [
  cpuNode({ name: 'a', zone: 'zone-a' }),
  cpuNode({ name: 'b', zone: 'zone-b' }),
  cpuNode({ name: 'c', zone: 'zone-c' }),
  cpuNode({ name: 'none' }),
];

test('the first listed zone scores highest, unlisted zones and unlabelled nodes 0', async () => {
  const scores = await runScore(zonePreference, { pod: pod({ name: 'p' }), nodes, config: { zones: ['zone-b', 'zone-a'] } });
  assert.deepEqual(scores, [
    { node: 'a', score: 50 },
    { node: 'b', score: 100 },
    { node: 'c', score: 0 },
    { node: 'none', score: 0 },
  ]);
});

test('a config that is not a list of zones is refused, naming the key', async () => {
  await assert.rejects(
    runScore(zonePreference, { pod: pod({ name: 'p' }), nodes, config: { zones: 'zone-a' } }),
    (e: unknown) => e instanceof ConfigError && /zones/.test(e.message),
  );
});
