// rules.ts spells the proto's Action values itself (so that the sidecar's hot path does not load
// grpc-js through @skein/api); they must stay the generated enum's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Action } from '@skein/api';
import { ACTION_ALLOW, ACTION_DENY } from './rules.js';

test('the Action values of rules.ts are the proto\'s', () => {
  assert.equal(ACTION_ALLOW, Action.ACTION_ALLOW);
  assert.equal(ACTION_DENY, Action.ACTION_DENY);
});
