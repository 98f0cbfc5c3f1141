/**
 * A small TF-Serving-compatible REST server for tests (loopback, random port) that serves a real
 * tfjs layers model, written to TF Serving's documented shapes (g3doc/api_rest.md; see
 * shared/reference/tf-serving-and-tfjs.md §1): status, metadata, predict (row and columnar), errors.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { fsLoadHandler } from '../../smoke/fsio';
import type { Tf } from '../../smoke/backend';
import { flattenNested, nest, stringifyTfJson } from '../../smoke/tfjson';

export interface TfServingServer {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

const DT: Record<string, string> = {
  float32: 'DT_FLOAT',
  int32: 'DT_INT32',
  bool: 'DT_BOOL',
  string: 'DT_STRING',
};

export async function startTfServingServer(opts: {
  modelName: string;
  modelDir: string;
  version?: string;
  loadingPolls?: number;
}): Promise<TfServingServer> {
  tf.enableProdMode();
  const model = await tfl.loadLayersModel(
    fsLoadHandler(tf as unknown as Tf, opts.modelDir),
  );
  if (model.inputNames.length === 0)
    (model as unknown as { build(): void }).build();
  const version = opts.version ?? '1';
  let loadingPolls = opts.loadingPolls ?? 1;
  const requests: string[] = [];
  const spec = (
    names: string[],
    ts: Array<{ dtype: string; shape: Array<number | null> }>,
  ) =>
    Object.fromEntries(
      names.map((n, i) => [
        n,
        {
          dtype: DT[ts[i].dtype],
          tensor_shape: {
            dim: ts[i].shape.map(d => ({ size: String(d ?? -1), name: '' })),
            unknown_rank: false,
          },
          name: `serving_default_${n}:0`,
        },
      ]),
    );
  const metadata = {
    model_spec: { name: opts.modelName, signature_name: '', version },
    metadata: {
      signature_def: {
        signature_def: {
          serving_default: {
            inputs: spec(model.inputNames, model.inputs),
            outputs: spec(model.outputNames, model.outputs),
            method_name: 'tensorflow/serving/predict',
            defaults: {},
          },
          __saved_model_init_op: {
            inputs: {},
            outputs: {
              __saved_model_init_op: {
                dtype: 'DT_INVALID',
                tensor_shape: { dim: [], unknown_rank: true },
                name: 'NoOp',
              },
            },
            method_name: '',
            defaults: {},
          },
        },
      },
    },
  };
  const send = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(stringifyTfJson(body));
  };
  const predict = (body: {
    inputs?: unknown;
    instances?: unknown;
    signature_name?: string;
  }) => {
    if (body.signature_name && body.signature_name !== 'serving_default')
      throw new Error(
        `Serving signature name: "${body.signature_name}" not found in signature def`,
      );
    if ((body.inputs === undefined) === (body.instances === undefined))
      throw new Error(
        'JSON Value: request must have exactly one of "instances" or "inputs"',
      );
    const names = model.inputNames;
    let columns: Record<string, unknown>;
    if (body.inputs !== undefined) {
      columns =
        names.length === 1 &&
        (Array.isArray(body.inputs) || typeof body.inputs !== 'object')
          ? { [names[0]]: body.inputs }
          : (body.inputs as Record<string, unknown>);
    } else {
      const rows = body.instances as unknown[];
      columns =
        names.length === 1
          ? { [names[0]]: rows }
          : Object.fromEntries(
              names.map(n => [
                n,
                rows.map(r => (r as Record<string, unknown>)[n]),
              ]),
            );
    }
    const xs: tf.Tensor[] = [];
    let list: tf.Tensor[] = [];
    try {
      names.forEach((n, i) => {
        if (columns[n] === undefined) throw new Error(`Missing input: ${n}`);
        const { shape, values } = flattenNested(columns[n]);
        xs.push(
          tf.tensor(
            values as number[],
            shape,
            model.inputs[i].dtype as 'float32' | 'int32',
          ),
        );
      });
      const out = model.predict(xs);
      list = Array.isArray(out) ? out : [out];
      const named = Object.fromEntries(
        list.map((t, i) => [
          model.outputNames[i],
          nest(Array.from(t.dataSync()), t.shape),
        ]),
      );
      if (body.inputs !== undefined)
        return {
          outputs: list.length === 1 ? named[model.outputNames[0]] : named,
        };
      const batch = list[0].shape[0] as number;
      const rows = Array.from({ length: batch }, (_, b) =>
        list.length === 1
          ? (named[model.outputNames[0]] as unknown[])[b]
          : Object.fromEntries(
              Object.entries(named).map(([k, v]) => [k, (v as unknown[])[b]]),
            ),
      );
      return { predictions: rows };
    } finally {
      [...xs, ...list].forEach(t => t.dispose());
    }
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '';
      requests.push(`${req.method} ${url}`);
      const m =
        /^\/v1\/models(?:\/([^/:]+))?(?:\/versions\/(\d+)|\/labels\/([a-zA-Z0-9_]+))?(\/metadata|:predict)?$/.exec(
          url,
        );
      if (!m)
        return send(res, 404, {
          error: `Malformed request: ${req.method} ${url}`,
        });
      const [, name, v, , action] = m;
      if (!name)
        return send(res, 400, { error: 'Missing model name in request.' });
      if (name !== opts.modelName || (v && v !== version))
        return send(res, 404, {
          error: `Servable not found for request: ${v ? `Specific(${name}, ${v})` : `Latest(${name})`}`,
        });
      if (!action && req.method === 'GET') {
        const state = loadingPolls-- > 0 ? 'LOADING' : 'AVAILABLE';
        return send(res, 200, {
          model_version_status: [
            { version, state, status: { error_code: 'OK', error_message: '' } },
          ],
        });
      }
      if (action === '/metadata' && req.method === 'GET')
        return send(res, 200, metadata);
      if (action === ':predict' && req.method === 'POST') {
        try {
          return send(
            res,
            200,
            predict(JSON.parse(Buffer.concat(chunks).toString('utf8'))),
          );
        } catch (e) {
          return send(res, 400, { error: (e as Error).message });
        }
      }
      return send(res, 405, { error: `Unsupported method ${req.method}` });
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>(resolve => {
        model.dispose();
        server.close(() => resolve());
      }),
  };
}
