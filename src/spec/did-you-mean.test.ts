import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closestName, didYouMean } from './did-you-mean.ts';

test('finds the name meant through case, separators, a swapped, missing or extra letter', () => {
  const fields = ['setWeight', 'pause', 'setHeaderRoute', 'smoke'];
  assert.equal(closestName('setWeigth', fields), 'setWeight');
  assert.equal(closestName('setweight', fields), 'setWeight');
  assert.equal(closestName('set_weight', fields), 'setWeight');
  assert.equal(closestName('paus', fields), 'pause');
  assert.equal(closestName('proces', ['process', 'static', 'command']), 'process');
  assert.equal(didYouMean('rollbackcontract', ['rollbackContract']), ' (did you mean "rollbackContract"?)');
});

test('suggests nothing when no name is near', () => {
  assert.equal(closestName('lambda', ['process', 'static', 'command']), undefined);
  assert.equal(closestName('nginx', ['builtin']), undefined);
  assert.equal(closestName('ab', ['xy']), undefined);
  assert.equal(didYouMean('weights', ['setWeight', 'pause']), '');
});
