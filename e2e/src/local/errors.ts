// Errors of skein-local. Each carries a stable `code`; messages say what was wrong and what to do.
export class LocalError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'LocalError';
  }
}

/** The command line is incomplete or malformed (exit 2, as for any usage error). */
export class UsageError extends LocalError {
  constructor(message: string) { super('E_USAGE', message); }
}

/** A flag or environment variable holds a value skein-local cannot use. */
export class ConfigError extends LocalError {
  constructor(message: string) { super('E_CONFIG', message); }
}

/** A manifest cannot be parsed or describes something skein-local does not run. */
export class ManifestError extends LocalError {
  constructor(message: string) { super('E_MANIFEST', message); }
}

/** The admission webhook refused the object, or could not be reached with failurePolicy Fail. */
export class AdmissionError extends LocalError {
  constructor(message: string) { super('E_ADMISSION', message); }
}

/** An object was not found in the store. */
export class NotFoundError extends LocalError {
  constructor(message: string) { super('E_NOT_FOUND', message); }
}

/** A host command (ip, iptables, …) failed. */
export class CommandError extends LocalError {
  constructor(readonly argv: readonly string[], readonly exitCode: number | null, readonly stderr: string) {
    super('E_COMMAND', `${argv.join(' ')} failed (exit ${exitCode ?? 'signal'}): ${stderr.trim()}`);
  }
}

/** The node daemon is not running or did not answer. */
export class DaemonError extends LocalError {
  constructor(message: string) { super('E_DAEMON', message); }
}

/** The object is invalid for the API (missing name, bad field…). */
export class InvalidError extends LocalError {
  constructor(message: string) { super('E_INVALID', message); }
}

/** A container's environment references something missing or unsupported (CreateContainerConfigError). */
export class EnvError extends LocalError {
  constructor(message: string) { super('E_ENV', message); }
}

/** A volume cannot be materialised yet (missing ConfigMap/Secret) or at all (unsupported type). */
export class VolumeError extends LocalError {
  constructor(message: string) { super('E_VOLUME', message); }
}

/** skein-cp did not start or is not ready. */
export class ControlPlaneError extends LocalError {
  constructor(message: string) { super('E_CONTROL_PLANE', message); }
}
