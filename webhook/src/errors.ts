// Errors of the skein-cp process around the admission handler. Each class has a stable `code`;
// messages say what was wrong and what to do. main.ts maps them to exit codes.

export abstract class SkeinCpError extends Error {
  abstract readonly code: string;
}

/** A command-line flag or environment value is invalid. Exit status 2. */
export class ConfigError extends SkeinCpError {
  readonly code = 'SKEIN_CP_BAD_FLAG';
  constructor(readonly flag: string, message: string) {
    super(`${flag}: ${message}`);
    this.name = 'ConfigError';
  }
}

/** The local-mode state directory cannot be used (not writable, wrong permissions, corrupt CA). */
export class StateDirError extends SkeinCpError {
  readonly code = 'SKEIN_CP_STATE_DIR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StateDirError';
  }
}

/** Certificate material is unusable (does not parse, does not chain, expired). */
export class TlsMaterialError extends SkeinCpError {
  readonly code = 'SKEIN_CP_TLS_MATERIAL';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TlsMaterialError';
  }
}

/** A call to the Kubernetes API failed in a way skein-cp cannot recover from by retrying. */
export class KubeError extends SkeinCpError {
  readonly code = 'SKEIN_CP_KUBE';
  constructor(message: string, readonly status?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KubeError';
  }
}

/** A listener could not be opened (port in use, permission). */
export class ListenError extends SkeinCpError {
  readonly code = 'SKEIN_CP_LISTEN';
  constructor(readonly listener: string, message: string, options?: { cause?: unknown }) {
    super(`${listener}: ${message}`, options);
    this.name = 'ListenError';
  }
}

/** A signal arrived while skein-cp was still starting; the shutdown path owns the exit. */
export class StoppedDuringStartError extends SkeinCpError {
  readonly code = 'SKEIN_CP_STOPPED';
  constructor() {
    super('stopped by a signal before start-up finished');
    this.name = 'StoppedDuringStartError';
  }
}
