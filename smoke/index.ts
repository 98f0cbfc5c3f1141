/** The smoke engine's public surface. Importing it loads no TensorFlow (loaded lazily on the first run). */
export {
  runSmoke,
  failureMessage,
  SmokeAbortedError,
  DEFAULT_TOLERANCE,
  type SmokeOptions,
} from './engine';
export {
  runEndpointSmoke,
  EndpointError,
  type EndpointSmokeOptions,
} from './endpoint';
export {
  planBackend,
  loadRuntime,
  detectAvailability,
  DeviceUnavailableError,
  GPU_PACKAGE,
  CPU_PACKAGE,
  type DevicePolicy,
  type Runtime,
} from './backend';
export { detectFormat, ModelFormatError } from './formats';
export { SmokeInputError } from './signature';
export { formatReport } from './report';
export type * from './types';
