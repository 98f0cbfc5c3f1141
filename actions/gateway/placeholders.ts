/** Plain string replacement of `{key}` placeholders: values are data, never template source. */
export function fillPlaceholders(
  template: string,
  values: Record<string, string>,
): string {
  let out = template;
  for (const [key, value] of Object.entries(values))
    out = out.split(`{${key}}`).join(value);
  return out;
}
