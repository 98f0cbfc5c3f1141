/**
 * A tiny protobuf text-format writer for TF Serving's config files
 * (model_config_file, batching_parameters_file, monitoring_config_file).
 * Values are typed data; strings are always quoted and escaped, so no value can add fields.
 */
export type TextProtoScalar = string | number | boolean | { enum: string };
export type TextProtoValue = TextProtoScalar | TextProtoMessage;
export interface TextProtoMessage {
  [field: string]: TextProtoValue | TextProtoValue[] | undefined;
}

function scalar(value: TextProtoScalar): string {
  if (typeof value === 'string') {
    // eslint-disable-next-line no-control-regex -- escapes control characters as octal, as text format requires
    return `"${value.replace(/[\\"]/g, c => `\\${c}`).replace(/[\u0000-\u001f\u007f]/g, c => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`)}"`;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new Error('text proto numbers must be finite');
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (!/^[A-Z_][A-Z0-9_]*$/i.test(value.enum))
    throw new Error(`bad enum ${value.enum}`);
  return value.enum;
}

function isMessage(value: TextProtoValue): value is TextProtoMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    !(
      'enum' in value &&
      Object.keys(value).length === 1 &&
      typeof value.enum === 'string'
    )
  );
}

export function toTextProto(message: TextProtoMessage, indent = ''): string {
  let out = '';
  for (const [field, raw] of Object.entries(message)) {
    if (raw === undefined) continue;
    if (!/^[a-z_][a-z0-9_]*$/.test(field))
      throw new Error(`bad field name ${field}`);
    for (const value of Array.isArray(raw) ? raw : [raw]) {
      if (isMessage(value)) {
        out += `${indent}${field} {\n${toTextProto(value, `${indent}  `)}${indent}}\n`;
      } else {
        out += `${indent}${field}: ${scalar(value)}\n`;
      }
    }
  }
  return out;
}
