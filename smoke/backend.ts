/**
 * Backend selection for the smoke engine. TensorFlow is loaded lazily, only
 * from `loadRuntime`: importing this module loads nothing.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type * as tfconv from '@tensorflow/tfjs-converter';

export type DevicePolicy = 'any' | 'gpu' | 'cpu';
/** Pure-JS backend preference: `auto` = wasm (≈10–50× faster than cpu in Node), cpu when wasm cannot start. */
export type JsBackend = 'auto' | 'wasm' | 'cpu';

export const GPU_PACKAGE = '@tensorflow/tfjs-node-gpu';
export const CPU_PACKAGE = '@tensorflow/tfjs-node';
export type NativePackage = typeof GPU_PACKAGE | typeof CPU_PACKAGE;

/** The TensorFlow API the engine uses: core + layers + converter, plus `node` when native. */
export type Tf = typeof tfc &
  Pick<typeof tfl, 'loadLayersModel'> &
  Pick<typeof tfconv, 'loadGraphModel'> & {
    node?: NodeApi;
  };

/** The part of tfjs-node's `tf.node` namespace we use (typed here: the package is an optional peer). */
export interface NodeApi {
  getMetaGraphsFromSavedModel(path: string): Promise<
    Array<{
      tags: string[];
      signatureDefs: Record<
        string,
        {
          inputs: Record<string, NodeTensorInfo>;
          outputs: Record<string, NodeTensorInfo>;
        }
      >;
    }>
  >;
  loadSavedModel(
    path: string,
    tags?: string[],
    signature?: string,
  ): Promise<{
    predict(
      inputs: tfc.Tensor | tfc.Tensor[] | tfc.NamedTensorMap,
    ): tfc.Tensor | tfc.Tensor[] | tfc.NamedTensorMap;
    dispose(): void;
  }>;
}
export interface NodeTensorInfo {
  name: string;
  dtype?: string;
  tfDtype?: string;
  shape?: Array<number | { getSize(): number }>;
}

export interface DeviceInfo {
  kind: 'gpu' | 'cpu';
  /** Which GPU, where the backend says (tfjs-node-gpu reports only whether a GPU is used). */
  name?: string;
}

export interface Runtime {
  tf: Tf;
  /** tfjs backend name actually in use: `tensorflow`, `wasm` or `cpu`. */
  backend: string;
  /** Native package loaded, or null for pure-JS tfjs. */
  nativePackage: NativePackage | null;
  device: DeviceInfo;
}

/** Which native packages are installed; a plain value so the policy is testable without them. */
export interface Availability {
  gpuPackage: boolean;
  cpuPackage: boolean;
}

export type BackendPlan =
  { kind: 'native'; pkg: NativePackage } | { kind: 'js' };

export class DeviceUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceUnavailableError';
  }
}

/** The device policy as a pure function: which backend to try for a policy and what is installed. */
export function planBackend(
  device: DevicePolicy,
  available: Availability,
): BackendPlan {
  if (device === 'gpu') {
    if (!available.gpuPackage) {
      throw new DeviceUnavailableError(
        `device 'gpu' was requested but no GPU backend is available: ${GPU_PACKAGE} is not installed ` +
          `(it is an optional peer dependency; install it on a host with CUDA 11.2 / cuDNN 8.1), or use device 'any' or 'cpu'`,
      );
    }
    return { kind: 'native', pkg: GPU_PACKAGE };
  }
  if (device === 'any' && available.gpuPackage)
    return { kind: 'native', pkg: GPU_PACKAGE };
  if (available.cpuPackage) return { kind: 'native', pkg: CPU_PACKAGE };
  return { kind: 'js' };
}

export type ModuleLoader = (name: string) => unknown;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const defaultLoader: ModuleLoader = name => require(name);

/** True when `name` resolves; a missing package is false, a broken install throws. */
export function isInstalled(
  name: string,
  resolve: (n: string) => string = require.resolve,
): boolean {
  try {
    resolve(name);
    return true;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (
      err?.code === 'MODULE_NOT_FOUND' &&
      String(err.message).includes(`'${name}'`)
    )
      return false;
    throw e;
  }
}

export function detectAvailability(): Availability {
  return {
    gpuPackage: isInstalled(GPU_PACKAGE),
    cpuPackage: isInstalled(CPU_PACKAGE),
  };
}

let cached: Promise<Runtime> | undefined;
let cachedKey = '';

export interface RuntimeOptions {
  device?: DevicePolicy;
  jsBackend?: JsBackend;
  availability?: Availability;
  load?: ModuleLoader;
}

/**
 * Loads TensorFlow for a device policy. tfjs keeps one global engine per process, so the
 * runtime is cached per (policy, backend) key; asking for another pure-JS backend switches it.
 */
export function loadRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const device = options.device ?? 'any';
  const available = options.availability ?? detectAvailability();
  const plan = planBackend(device, available);
  const key =
    plan.kind === 'native' ? plan.pkg : `js:${options.jsBackend ?? 'auto'}`;
  if (!cached || cachedKey !== key) {
    cachedKey = key;
    cached = createRuntime(
      plan,
      device,
      options.jsBackend ?? 'auto',
      options.load ?? defaultLoader,
    ).catch(e => {
      cached = undefined;
      throw e;
    });
  }
  return cached;
}

async function createRuntime(
  plan: BackendPlan,
  device: DevicePolicy,
  jsBackend: JsBackend,
  load: ModuleLoader,
): Promise<Runtime> {
  if (plan.kind === 'native') {
    const tf = load(plan.pkg) as Tf & { backend(): unknown };
    tf.enableProdMode();
    await tf.ready();
    const be = tf.backend() as { isUsingGpuDevice?: boolean };
    const onGpu = plan.pkg === GPU_PACKAGE && be.isUsingGpuDevice === true;
    if (device === 'gpu' && !onGpu) {
      throw new DeviceUnavailableError(
        `device 'gpu' was requested and ${GPU_PACKAGE} is installed, but it is not using a GPU ` +
          `(no CUDA device found, or CUDA 11.2 / cuDNN 8.1 libraries missing: it silently falls back to the CPU)`,
      );
    }
    return {
      tf,
      backend: tf.getBackend(),
      nativePackage: plan.pkg,
      // tfjs-node-gpu says only whether a GPU is used, not which one (the last visible CUDA device, tfjs#320).
      device: onGpu
        ? { kind: 'gpu', name: 'CUDA device (tfjs-node-gpu does not name it)' }
        : { kind: 'cpu' },
    };
  }
  const core = load('@tensorflow/tfjs-core') as typeof tfc;
  load('@tensorflow/tfjs-backend-cpu');
  const layers = load('@tensorflow/tfjs-layers') as typeof tfl;
  const converter = load('@tensorflow/tfjs-converter') as typeof tfconv;
  core.enableProdMode();
  let backend = 'cpu';
  if (jsBackend !== 'cpu') {
    try {
      load('@tensorflow/tfjs-backend-wasm');
      if (await core.setBackend('wasm')) backend = 'wasm';
    } catch (e) {
      if (jsBackend === 'wasm') throw e;
    }
  }
  if (backend === 'cpu') await core.setBackend('cpu');
  await core.ready();
  const tf = Object.assign(Object.create(core) as typeof tfc, {
    loadLayersModel: layers.loadLayersModel,
    loadGraphModel: converter.loadGraphModel,
  }) as Tf;
  return {
    tf,
    backend: core.getBackend(),
    nativePackage: null,
    device: { kind: 'cpu' },
  };
}
