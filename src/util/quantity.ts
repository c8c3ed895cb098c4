/** Kubernetes resource quantities ("40Gi", "100G", "1.5", "500m"), parsed strictly to plain numbers. */

const SUFFIX: Readonly<Record<string, number>> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
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

const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/;

export class QuantityError extends Error {
  constructor(input: unknown) {
    super(`invalid quantity ${JSON.stringify(input)}: expected a Kubernetes quantity such as "40Gi", "100G" or "1.5"`);
    this.name = 'QuantityError';
  }
}

/** Parses a quantity (string or number) to its value in base units. Throws QuantityError. */
export function parseQuantity(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new QuantityError(input);
    return input;
  }
  const m = QUANTITY.exec(input.trim());
  if (m === null || input.trim() !== input) throw new QuantityError(input);
  const base = Number(m[1]);
  if (m[2] !== undefined) return base * 10 ** Number(m[2].slice(1));
  return base * (SUFFIX[m[3] ?? ''] as number);
}

/** Like parseQuantity but answers undefined for malformed input (for labels a user may have mistyped). */
export function tryParseQuantity(input: string | number | undefined): number | undefined {
  if (input === undefined) return undefined;
  try {
    return parseQuantity(input);
  } catch {
    return undefined;
  }
}
