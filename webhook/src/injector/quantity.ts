// Kubernetes resource quantities (k8s.io/apimachinery resource.Quantity), validated here so that a bad
// `skein.io/proxy-*` annotation is rejected with a message naming the annotation instead of the API server's
// later "spec.containers[0].resources..." error that names a container the user never wrote.

// <signedNumber><suffix>; suffix: binary SI (Ki..Ei), decimal SI (m, k, M..E) or a decimal exponent (e3, E-2).
const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

const SUFFIX_FACTOR: Readonly<Record<string, number>> = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/**
 * The value of a non-negative quantity as a float (precise enough to compare a request with a limit), or
 * undefined when `text` is not a quantity or is negative.
 */
export function parseQuantity(text: string): number | undefined {
  const m = QUANTITY.exec(text);
  if (m === null || m[1] === '-') return undefined;
  const suffix = m[3] ?? '';
  // "E" and "Ei" are exa suffixes; only e/E followed by digits is a decimal exponent ("1E" was read as 1).
  const factor = /^[eE][+-]?\d+$/.test(suffix) ? 10 ** Number(suffix.slice(1)) : SUFFIX_FACTOR[suffix];
  const value = Number(m[2]) * (factor ?? Number.NaN);
  return Number.isFinite(value) ? value : undefined;
}
