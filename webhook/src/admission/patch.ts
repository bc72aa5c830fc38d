// The JSONPatch sent back to the API server is never written by hand: it is the rfc6902 diff of the pod as
// received and the pod as injected, taken through the injector's in-place stage (see injector/mutate.ts) so
// that list insertions are `add` operations at an index and existing list items are never overwritten.
import { createPatch, type Operation } from 'rfc6902';
import { diffAny, type Diff } from 'rfc6902/diff.js';

export type { Operation };

/**
 * How lists are lined up before rfc6902 diffs them. Its default aligns every pair of lists by edit distance,
 * recursively: O(n·m) item diffs and O(n) stack depth — half a second for a pod of 100 containers with
 * probes, a blocked event loop or a stack overflow for a hostile one. The injector only ever changes items
 * in place (same length) or puts new items at the front or the end, and unchanged items are the very same
 * objects (copy on write), so those three shapes are recognised by identity in linear time; the operations
 * themselves still come from rfc6902:
 *   same length → items diffed pairwise;
 *   appended    → diff of [] and the new tail: `add …/-` per item;
 *   prepended   → diff of the first old item and the new head plus that item: `add …/0`, `add …/1`, ….
 * Anything else falls back to the library's alignment.
 */
const aligned: Diff = (input, output, ptr) => {
  if (input === output) return [];
  if (Array.isArray(input) && Array.isArray(output)) {
    if (input.length === output.length) {
      return input.flatMap((item: unknown, i) => aligned(item, output[i], ptr.add(String(i))));
    }
    const grown = output.length - input.length;
    if (grown > 0 && input.every((item: unknown, i) => item === output[i])) {
      return diffAny([], output.slice(input.length), ptr, aligned);
    }
    if (grown > 0 && input.every((item: unknown, i) => item === output[i + grown])) {
      return diffAny(input.slice(0, 1), output.slice(0, grown + 1), ptr, aligned);
    }
  }
  return diffAny(input, output, ptr, aligned);
};

export function podPatch(original: unknown, inPlace: unknown, injected: unknown): Operation[] {
  return [...createPatch(original, inPlace, aligned), ...createPatch(inPlace, injected, aligned)];
}
