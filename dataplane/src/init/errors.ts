// Errors of `skein-dp init`, each with a stable code; messages say what was wrong and what to do. They
// share the workspace's SkeinError base (src/errors.ts), so one `instanceof SkeinError` covers init and run.
import { SkeinError } from '../errors.js';

export type InitErrorCode =
  | 'INIT_BAD_FLAG'
  | 'INIT_IPTABLES_MISSING'
  | 'INIT_NO_NET_ADMIN'
  | 'INIT_RESTORE_FAILED'
  | 'INIT_IPV6_UNAVAILABLE';

export abstract class InitError extends SkeinError {
  declare readonly code: InitErrorCode;
}

/** A flag value that cannot be used; the message names the flag. */
export class InitFlagError extends InitError {
  constructor(
    readonly flag: string,
    detail: string,
  ) {
    super('INIT_BAD_FLAG', `--${flag}: ${detail}`);
  }
}

/** iptables-restore / ip6tables-restore / iptables-save is not on PATH. */
export class IptablesMissingError extends InitError {
  constructor(readonly command: string) {
    super('INIT_IPTABLES_MISSING', `${command} not found: install the iptables package (the dataplane image carries it)`);
  }
}

/** The process may not change netfilter rules in this network namespace. */
export class IptablesPermissionError extends InitError {
  constructor(
    readonly command: string,
    stderr: string,
  ) {
    super(
      'INIT_NO_NET_ADMIN',
      `${command} needs NET_ADMIN and NET_RAW: run skein-init with those capabilities ` +
        `(the injector adds them to the init container) or as root; ${command} said: ${oneLine(stderr)}`,
    );
  }
}

/** iptables-restore rejected the rules (or another command of the apply step failed). */
export class IptablesRestoreError extends InitError {
  constructor(
    readonly command: string,
    readonly exitCode: number,
    stderr: string,
  ) {
    super(
      'INIT_RESTORE_FAILED',
      `${command} failed with exit code ${exitCode}: ${oneLine(stderr)}; ` +
        'check that the kernel has the nat table, REDIRECT and owner match (run with --dry-run to see the rules)',
    );
  }
}

/** The pod has IPv6 (or --ipv6 on), but ip6tables cannot program the IPv6 nat table here. */
export class Ipv6UnavailableError extends InitError {
  constructor(detail: string) {
    super(
      'INIT_IPV6_UNAVAILABLE',
      `IPv6 capture cannot be set up (${detail}); IPv6 traffic would escape the sidecar, so init stops. ` +
        'Load ip6table_nat on the node, or pass --ipv6 off if the pod must run without IPv6 capture',
    );
  }
}

function oneLine(text: string): string {
  const t = text.trim().replace(/\s+/g, ' ');
  return t.length > 400 ? `${t.slice(0, 400)}…` : t || '(no output)';
}
