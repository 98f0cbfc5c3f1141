/**
 * What the backend side of a validation uses of the smoke engine: the preflight, the isolated
 * runner, redaction and the error types. tensorflow:model:validate loads it on its first run,
 * so loading the module does not load the engine.
 */
export { failureMessage } from './engine';
export { ModelFormatError } from './formats';
export { ModelRefusedError } from './modelfs';
export { preflightLocal } from './preflight';
export { redactError, redactUrl } from './redact';
export { runSmokeIsolated } from './sandbox';
export { SmokeInputError } from './signature';
