/** Kubernetes resource quantities (the subset platforms use for CPU and memory). */
const QUANTITY = /^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const FACTORS: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

export function isQuantity(value: unknown): value is string {
  return typeof value === 'string' && QUANTITY.test(value);
}

/** Parses a quantity to base units (cores, bytes); undefined when it is not a quantity. */
export function parseQuantity(value: string): number | undefined {
  const m = QUANTITY.exec(value);
  if (!m) return undefined;
  return Number(m[1]) * FACTORS[m[2] ?? ''];
}

/** `count` times a quantity, as a quantity in the same unit (e.g. 3 x 500m = 1500m). */
export function multiplyQuantity(value: string, count: number): string {
  const m = QUANTITY.exec(value);
  if (!m) throw new Error(`"${value}" is not a quantity`);
  const n = Number(m[1]) * count;
  return `${Number.isInteger(n) ? n : Number(n.toFixed(6))}${m[2] ?? ''}`;
}
