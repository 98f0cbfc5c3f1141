/** Model formats: detection from the files, loading, signature and execution behind one interface. */
import fs from 'node:fs';
import path from 'node:path';
import type { Tensor, NamedTensorMap } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { CPU_PACKAGE, GPU_PACKAGE, type Runtime } from './backend';
import { fsLoadHandler, readModelJson } from './fsio';
import {
  SmokeInputError,
  mapTfDtype,
  shapeFromNode,
  signatureFromSignatureDef,
} from './signature';
import type { FormatOption, ModelFormat, Signature, TensorSpec } from './types';
import { DEFAULT_LIMITS, SmokeLimitError, type SmokeLimits } from './limits';

export class ModelFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFormatError';
  }
}

/** Detects the format from the files in `dir` (reference: tfjs-in-node §3 "Detection from files"). */
export function detectFormat(dir: string, limits?: SmokeLimits): ModelFormat {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
    throw new ModelFormatError(`model folder '${dir}' does not exist`);
  if (fs.existsSync(path.join(dir, 'saved_model.pb'))) return 'saved-model';
  if (fs.existsSync(path.join(dir, 'saved_model.pbtxt'))) {
    throw new ModelFormatError(
      `'${dir}' holds saved_model.pbtxt; tfjs-node reads only saved_model.pb: re-export the SavedModel in binary form`,
    );
  }
  if (!fs.existsSync(path.join(dir, 'model.json'))) {
    throw new ModelFormatError(
      `no model found in '${dir}': expected saved_model.pb (TensorFlow SavedModel) or model.json + weight shards (TF.js graph or layers model)`,
    );
  }
  const json = readModelJson(dir, limits);
  const topo = json.modelTopology as
    | { node?: unknown; model_config?: unknown; class_name?: unknown }
    | undefined;
  if (!topo || !json.weightsManifest)
    throw new ModelFormatError(
      `'${dir}/model.json' has no modelTopology/weightsManifest: not a TF.js model`,
    );
  if (json.format === 'graph-model' || Array.isArray(topo.node))
    return 'graph-model';
  if (json.format === 'layers-model' || topo.model_config || topo.class_name)
    return 'layers-model';
  throw new ModelFormatError(
    `cannot tell the format of '${dir}/model.json' (format: ${String(json.format)})`,
  );
}

export type RunResult = Array<{ name: string; tensor: Tensor }>;

export interface LoadedModel {
  format: ModelFormat;
  signature: Signature;
  /**
   * Runs once; returns one tensor per signature output (missing ones omitted), in signature order.
   * Synchronous except for graph models with dynamic ops (control flow, Where, NMS), which need executeAsync.
   */
  run(inputs: Record<string, Tensor>): RunResult | Promise<RunResult>;
  dispose(): void;
}

export interface LoadOptions {
  format?: FormatOption;
  signatureName?: string;
  limits?: SmokeLimits;
}

export async function loadModel(
  rt: Runtime,
  dir: string,
  options: LoadOptions = {},
): Promise<LoadedModel> {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const detected = detectFormat(dir, limits);
  const format =
    options.format && options.format !== 'auto' ? options.format : detected;
  if (format !== detected)
    throw new ModelFormatError(
      `format '${format}' was requested but '${dir}' holds a ${detected}`,
    );
  try {
    switch (format) {
      case 'layers-model':
        return await loadLayers(rt, dir, limits, options.signatureName);
      case 'graph-model':
        return await loadGraph(rt, dir, limits, options.signatureName);
      case 'saved-model':
        return await loadSaved(rt, dir, options.signatureName);
      default:
        throw new ModelFormatError(`unknown model format '${String(format)}'`);
    }
  } catch (e) {
    if (
      e instanceof ModelFormatError ||
      e instanceof SmokeInputError ||
      e instanceof SmokeLimitError ||
      (e as Error)?.name === 'ModelRefusedError'
    )
      throw e;
    // tfjs' own load errors (e.g. a truncated weight shard) do not say that loading failed.
    throw new ModelFormatError(
      `the ${format} could not be loaded (corrupt or incomplete model files?): ${(e as Error)?.message ?? String(e)}`,
    );
  }
}

function checkSignatureName(
  requested: string | undefined,
  available: string[],
): string {
  const name = requested || available[0];
  if (!available.includes(name)) {
    throw new SmokeInputError(
      `signature '${requested}' not found; the model has: ${available.join(', ')}`,
      'signatureName',
    );
  }
  return name;
}

const dims = (
  shape: Array<number | null> | undefined | null,
): number[] | null => (shape ? shape.map(d => (d === null ? -1 : d)) : null);

async function loadLayers(
  rt: Runtime,
  dir: string,
  limits: SmokeLimits,
  signatureName?: string,
): Promise<LoadedModel> {
  const model: LayersModel = await rt.tf.loadLayersModel(
    fsLoadHandler(rt.tf, dir, limits),
  );
  try {
    // A loaded Sequential has empty inputNames until built (reference §4).
    if (model.inputNames.length === 0)
      (model as unknown as { build(): void }).build();
    const name = checkSignatureName(signatureName, ['serving_default']);
    const spec = (
      names: string[],
      ts: Array<{ dtype: string; shape: Array<number | null> }>,
    ): TensorSpec[] =>
      names.map((n, i) => ({
        name: n,
        dtype: ts[i].dtype,
        shape: dims(ts[i].shape),
      }));
    const signature: Signature = {
      name,
      inputs: spec(model.inputNames, model.inputs),
      outputs: spec(model.outputNames, model.outputs),
    };
    const inputOrder = model.inputNames;
    const outputNames = model.outputNames;
    return {
      format: 'layers-model',
      signature,
      run(inputs) {
        const out = model.predict(inputOrder.map(n => inputs[n]));
        const list = Array.isArray(out) ? out : [out];
        return list.map((tensor, i) => ({ name: outputNames[i], tensor }));
      },
      dispose: () => model.dispose(),
    };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

async function loadGraph(
  rt: Runtime,
  dir: string,
  limits: SmokeLimits,
  signatureName?: string,
): Promise<LoadedModel> {
  const model: GraphModel = await rt.tf.loadGraphModel(
    fsLoadHandler(rt.tf, dir, limits),
  );
  try {
    const raw = model.modelSignature as {
      inputs?: Record<string, never>;
      outputs?: Record<string, never>;
      methodName?: string;
    };
    const name = checkSignatureName(signatureName, ['serving_default']);
    let signature: Signature;
    if (raw && raw.inputs && Object.keys(raw.inputs).length) {
      signature = signatureFromSignatureDef(name, raw, {
        inputs: model.inputNodes,
        outputs: model.outputNodes,
      });
    } else {
      // No signature: Placeholders in, leaf nodes out (outputs carry no shape/dtype).
      signature = {
        name,
        inputs: model.inputs.map(t => ({
          name: t.name,
          dtype: t.dtype ?? 'unknown',
          shape: dims(t.shape as number[] | undefined),
        })),
        outputs: model.outputNodes.map(n => ({
          name: n,
          dtype: 'unknown',
          shape: null,
        })),
      };
    }
    const outputNames = signature.outputs.map(o => o.name);
    const wrap = (out: Tensor | Tensor[]) =>
      (Array.isArray(out) ? out : [out]).map((tensor, i) => ({
        name: outputNames[i],
        tensor,
      }));
    let dynamic = false;
    return {
      format: 'graph-model',
      signature,
      run(inputs) {
        if (!dynamic) {
          try {
            return wrap(
              model.execute(inputs as NamedTensorMap, outputNames) as
                Tensor | Tensor[],
            );
          } catch (e) {
            // tfjs refuses sync execution of dynamic ops and tells to use executeAsync.
            if (!/executeAsync/.test(String((e as Error).message))) throw e;
            dynamic = true;
          }
        }
        return model
          .executeAsync(inputs as NamedTensorMap, outputNames)
          .then(wrap);
      },
      dispose: () => model.dispose(),
    };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

export function savedModelNeedsNative(dir: string): ModelFormatError {
  return new ModelFormatError(
    `'${dir}' is a TensorFlow SavedModel, which needs the native backend: install ${CPU_PACKAGE} (CPU) or ${GPU_PACKAGE} (GPU) ` +
      `(optional peer dependencies, both 4.22.0), or convert it to a TF.js graph model with ` +
      `tensorflowjs_converter --input_format=tf_saved_model --output_format=tfjs_graph_model`,
  );
}

async function loadSaved(
  rt: Runtime,
  dir: string,
  signatureName?: string,
): Promise<LoadedModel> {
  const node = rt.tf.node;
  if (!rt.nativePackage || !node) throw savedModelNeedsNative(dir);
  let metaGraphs: Awaited<ReturnType<typeof node.getMetaGraphsFromSavedModel>>;
  try {
    metaGraphs = await node.getMetaGraphsFromSavedModel(dir);
  } catch (e) {
    const msg = (e as Error).message;
    throw new ModelFormatError(
      `cannot read the SavedModel signature in '${dir}': ${msg}`,
    );
  }
  const serve = metaGraphs.find(m => m.tags.includes('serve'));
  if (!serve)
    throw new ModelFormatError(
      `the SavedModel in '${dir}' has no meta graph tagged 'serve' (tags: ${metaGraphs.map(m => m.tags.join('+')).join(', ')})`,
    );
  const names = Object.keys(serve.signatureDefs);
  const name = checkSignatureName(
    signatureName ??
      (names.includes('serving_default') ? 'serving_default' : undefined),
    names,
  );
  const def = serve.signatureDefs[name];
  const specs = (
    m: Record<
      string,
      {
        name: string;
        dtype?: string;
        tfDtype?: string;
        shape?: Array<number | { getSize(): number }>;
      }
    >,
  ) =>
    Object.keys(m)
      .sort()
      .map((k): TensorSpec => ({
        name: k,
        dtype: m[k].dtype ?? mapTfDtype(m[k].tfDtype),
        shape: shapeFromNode(m[k].shape),
        tensorName: m[k].name,
      }));
  const signature: Signature = {
    name,
    inputs: specs(def.inputs),
    outputs: specs(def.outputs),
  };
  const model = await node.loadSavedModel(dir, ['serve'], name);
  return {
    format: 'saved-model',
    signature,
    run(inputs) {
      const out = model.predict(inputs as NamedTensorMap);
      if (
        out &&
        !Array.isArray(out) &&
        typeof (out as Tensor).dataSync === 'function'
      ) {
        return [{ name: signature.outputs[0].name, tensor: out as Tensor }];
      }
      const map = out as NamedTensorMap;
      return signature.outputs
        .filter(o => map[o.name])
        .map(o => ({ name: o.name, tensor: map[o.name] }));
    },
    dispose: () => model.dispose(),
  };
}
