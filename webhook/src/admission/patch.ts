// The JSONPatch sent back to the API server is never written by hand: it is the rfc6902 diff of the pod as
// received and the pod as injected, taken through the injector's in-place stage (see injector/mutate.ts) so
// that list insertions are `add` operations at an index and existing list items are never overwritten.
import { createPatch, type Operation } from 'rfc6902';

export type { Operation };

export function podPatch(original: unknown, inPlace: unknown, injected: unknown): Operation[] {
  return [...createPatch(original, inPlace), ...createPatch(inPlace, injected)];
}
