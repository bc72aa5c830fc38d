// What the identity parts of skein-cp agree on: who a caller is (from its verified token, never from a
// CSR), how a token is verified and how a pod is looked up. Imported by identity/ca, identity/certify,
// identity/token and discovery/; imports nothing but types.

/** Who a caller is, as proven by its verified service account token. */
export interface WorkloadIdentity {
  readonly namespace: string;
  readonly serviceAccount: string;
  /** spiffe://<trust-domain>/ns/<namespace>/sa/<serviceAccount> */
  readonly spiffeId: string;
  /** The pod a bound (projected) token names; always present for the tokens skein-dp presents. */
  readonly pod?: { readonly name: string; readonly uid: string };
}

export interface TokenVerifier {
  /** Resolves the identity, or rejects with a CertifyRefusal (errors.ts) that says why. */
  verify(token: string): Promise<WorkloadIdentity>;
}

/** A pod as the identity checks need it. */
export interface PodRecord {
  readonly uid: string;
  readonly podIPs: readonly string[];
  readonly serviceAccount: string;
}

/** Looks a pod up (local store or API server); undefined when it does not exist. */
export type PodLookup = (namespace: string, name: string) => Promise<PodRecord | undefined>;
