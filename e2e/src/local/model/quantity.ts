// Kubernetes resource quantities (k8s.io/apimachinery resource.Quantity): a signed decimal number and
// a binary-SI (Ki…Ei), decimal-SI (n, u, m, "", k…E) or exponent (e3, E-2) suffix.

const SUFFIX: Readonly<Record<string, number>> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/;

/** The quantity's value; throws (naming the text and the accepted forms) when it is not one. */
export function parseQuantityStrict(q: string | number): number {
  if (typeof q === 'number') {
    if (!Number.isFinite(q)) throw new Error(`quantity ${q} is not a finite number`);
    return q;
  }
  const m = QUANTITY.exec(q.trim());
  if (!m) throw new Error(`"${q}" is not a Kubernetes quantity (e.g. 64Mi, 1Gi, 100M, 500m, 1e9)`);
  const n = Number(m[1]);
  return m[2] !== undefined ? n * 10 ** Number(m[2].slice(1)) : n * SUFFIX[m[3] ?? '']!;
}

/** A quantity of bytes as an integer, rounded up as resource.Quantity.Value() does. */
export function quantityBytes(q: string | number): number {
  return Math.ceil(parseQuantityStrict(q));
}
