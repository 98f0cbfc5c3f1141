/** JSON as TF Serving writes it: float values may be bare NaN / Infinity / -Infinity tokens. */

const SENTINEL = '\u0000tfnum:';

/** Parses JSON that may contain bare NaN, Infinity and -Infinity outside strings. */
export function parseTfJson(text: string): unknown {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    const token = ['-Infinity', 'Infinity', 'NaN'].find(t =>
      text.startsWith(t, i),
    );
    if (token) {
      out += JSON.stringify(SENTINEL + token);
      i += token.length - 1;
      continue;
    }
    out += c;
  }
  return JSON.parse(out, (_k, v) =>
    typeof v === 'string' && v.startsWith(SENTINEL)
      ? Number(v.slice(SENTINEL.length))
      : v,
  );
}

/** Serialises with non-finite numbers as bare tokens, as TF Serving does. */
export function stringifyTfJson(value: unknown): string {
  const json = JSON.stringify(value, (_k, v) =>
    typeof v === 'number' && !Number.isFinite(v) ? SENTINEL + String(v) : v,
  );
  return json.replace(/"\\u0000tfnum:(-?Infinity|NaN)"/g, '$1');
}

/** Nested arrays → flat values + shape (ragged arrays are an error). */
export function flattenNested(value: unknown): {
  shape: number[];
  values: Array<number | string | boolean>;
} {
  const shape: number[] = [];
  let cur = value;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  const values = (
    Array.isArray(value) ? (value as unknown[]).flat(Infinity) : [value]
  ) as Array<number | string | boolean>;
  if (values.length !== shape.reduce((a, b) => a * b, 1))
    throw new Error('ragged tensor in JSON');
  return { shape, values };
}

/** Flat values + shape → nested arrays. */
export function nest<T>(values: ArrayLike<T>, shape: number[]): unknown {
  if (shape.length === 0) return values[0];
  const build = (offset: number, d: number): unknown => {
    const stride = shape.slice(d + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: shape[d] }, (_, i) =>
      d === shape.length - 1
        ? values[offset + i]
        : build(offset + i * stride, d + 1),
    );
  };
  return build(0, 0);
}
