/**
 * Reading a node's facts from the labels its cluster puts there. Each fact has an ordered list of
 * sources: `neuronetes.io/*` first (an explicit override), then NVIDIA GPU Feature Discovery, then
 * the cloud's own labels. The first source present decides: a label that is there but cannot be
 * read makes the fact unknown with the reason in words, rather than falling through to a guess.
 */
import { CapacityTypeLabels, GfdLabels, Labels } from '../api/neuronetes.ts';
import { tryParseQuantity } from '../util/quantity.ts';

/** One fact about a node: its value, the source it came from, and why it is unknown when a source could not be read. */
export interface Fact<T> {
  readonly value: T | undefined;
  /** `label=value` (or the resource, or the table entry) the value came from. */
  readonly from: string | undefined;
  /** Set when a source was there but unreadable; the fact is then unknown. */
  readonly problem: string | undefined;
}

/** Reads one label's text: the value, or what is wrong with it (a phrase following the quoted text). */
export type Reader<T> = (text: string) => { readonly value: T } | { readonly problem: string };

export type LabelSource<T> = readonly [label: string, read: Reader<T>];

export const UNKNOWN: Fact<never> = Object.freeze({ value: undefined, from: undefined, problem: undefined });

export const known = <T>(value: T, from: string): Fact<T> => ({ value, from, problem: undefined });

/** The first of `sources` the node has, read; UNKNOWN when it has none. */
export function fromLabels<T>(labels: Readonly<Record<string, string>>, sources: readonly LabelSource<T>[]): Fact<T> {
  for (const [label, read] of sources) {
    const text = labels[label];
    if (text === undefined) continue;
    const from = `${label}=${text}`;
    const r = read(text);
    return 'value' in r ? { value: r.value, from, problem: undefined } : { value: undefined, from, problem: `${label} ${JSON.stringify(text)} ${r.problem}` };
  }
  return UNKNOWN;
}

/** The labels a fact is read from, in order, for "no … label" reasons. */
export const labelNames = (sources: readonly LabelSource<unknown>[]): string => {
  const names = sources.map(([label]) => label);
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} or ${names.at(-1) as string}`;
};

/** Why a fact is unknown: the unreadable label, or the labels it is read from, none of which the node has. */
export const unknownBecause = (fact: Fact<unknown>, sources: readonly LabelSource<unknown>[]): string => fact.problem ?? `no ${labelNames(sources)} label`;

const WHOLE = /^\d+$/;
/** Label-value syntax (what the API server accepts): a name, not free text. */
const NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;

const name: Reader<string> = (text) => (NAME.test(text) ? { value: text } : { problem: 'is not a name (letters, digits, . _ -)' });
const whole: Reader<number> = (text) => (WHOLE.test(text) ? { value: Number(text) } : { problem: 'is not a whole number' });
const quantity: Reader<number> = (text) => {
  const value = tryParseQuantity(text);
  return value !== undefined && value >= 0 ? { value } : { problem: 'is not a quantity' };
};
const mib: Reader<number> = (text) =>
  WHOLE.test(text) && Number(text) > 0 ? { value: Number(text) * 2 ** 20 } : { problem: 'is not a positive whole number of MiB' };
const decimal: Reader<number> = (text) => (/^\d+(\.\d+)?$/.test(text) ? { value: Number(text) } : { problem: 'is not a number (e.g. 12.50)' });

/** A closed set of words, case-insensitive, each mapped to a value. */
function oneOf<T>(words: Readonly<Record<string, T>>): Reader<T> {
  const list = Object.keys(words);
  return (text) => {
    const value = words[text.toLowerCase()];
    return value !== undefined ? { value } : { problem: `is not ${list.length === 2 ? `${list[0]} or ${list[1]}` : `one of ${list.join(', ')}`}` };
  };
}

const bool = oneOf({ true: true, false: false });

/** `1g.5gb`, `2g.10gb`, `1g.10gb+me`, `1c.3g.40gb`: MIG profile names as NVIDIA writes them. */
export const MIG_PROFILE = /^(\d+c\.)?\d+g\.\d+gb(\+me)?$/;

/** `1g.5gb:7,2g.10gb:3` → {1g.5gb: 7, 2g.10gb: 3}; undefined when any entry is malformed. */
export function parseMigConfig(text: string): Map<string, number> | undefined {
  const slices = new Map<string, number>();
  for (const entry of text.split(',')) {
    const m = /^\s*([0-9a-z.+-]+):(\d+)\s*$/i.exec(entry);
    if (m === null) return undefined;
    slices.set((m[1] as string).toLowerCase(), Number(m[2]));
  }
  return slices;
}

const migLayout: Reader<ReadonlyMap<string, number>> = (text) => {
  const slices = parseMigConfig(text);
  return slices !== undefined ? { value: slices } : { problem: 'is not profile:count,… (e.g. 1g.5gb:7,2g.10gb:3)' };
};

export type CapacityType = 'spot' | 'on-demand';
export type MigStrategy = 'none' | 'single' | 'mixed';

/** Where each label-read fact comes from, in order. */
export const FactSources = {
  gpuType: [
    [Labels.gpuType, name],
    [GfdLabels.product, name],
  ],
  gpuMemory: [
    [Labels.gpuMemory, quantity],
    [GfdLabels.memory, mib],
  ],
  gpuCount: [
    [Labels.gpuCount, whole],
    [GfdLabels.count, whole],
  ],
  gpuFamily: [[GfdLabels.family, name]],
  interconnect: [
    [
      Labels.gpuTopology,
      (text) => (/^[a-z0-9-]+$/i.test(text) ? { value: text.toLowerCase() } : { problem: 'is not an interconnect name (nvlink, nvswitch, pcie…)' }),
    ],
    // GFD writes `<cluster UUID>.<clique id>` on nodes whose GPUs share an NVLink domain.
    [GfdLabels.clique, (text) => (/^[A-Za-z0-9][A-Za-z0-9-]*\.\d+$/.test(text) ? { value: 'nvlink' } : { problem: 'is not <cluster-uuid>.<clique-id>' })],
  ],
  nvlinkDomain: [
    [GfdLabels.clique, (text) => (/^[A-Za-z0-9][A-Za-z0-9-]*\.\d+$/.test(text) ? { value: text } : { problem: 'is not <cluster-uuid>.<clique-id>' })],
  ],
  /** Not in the NeuroNetes label list, but advertised by its node labeller; read when present. */
  bandwidth: [['neuronetes.io/gpu-bandwidth', quantity]],
  migCapable: [
    [Labels.migCapable, bool],
    [GfdLabels.migCapable, bool],
  ],
  migStrategy: [[GfdLabels.migStrategy, oneOf<MigStrategy>({ none: 'none', single: 'single', mixed: 'mixed' })]],
  /** The MIG manager's named layout (all-1g.5gb, all-balanced, all-disabled…); informative. */
  migConfigName: [[GfdLabels.migConfig, name]],
  migLayout: [[Labels.migConfig, migLayout]],
  capacityType: [
    [CapacityTypeLabels.karpenter, oneOf<CapacityType>({ spot: 'spot', 'on-demand': 'on-demand', reserved: 'on-demand' })],
    [CapacityTypeLabels.eks, oneOf<CapacityType>({ spot: 'spot', on_demand: 'on-demand', capacity_block: 'on-demand' })],
    [CapacityTypeLabels.gkeSpot, oneOf<CapacityType>({ true: 'spot', false: 'on-demand' })],
    [CapacityTypeLabels.gkePreemptible, oneOf<CapacityType>({ true: 'spot', false: 'on-demand' })],
    [CapacityTypeLabels.aks, oneOf<CapacityType>({ spot: 'spot', regular: 'on-demand' })],
  ],
  costPerHour: [[Labels.costPerHour, decimal]],
  instanceType: [[Labels.instanceType, name]],
} as const satisfies Record<string, readonly LabelSource<unknown>[]>;

/**
 * Per-GPU memory. GFD reports usable MiB, a little under the size the product is sold as (an H100
 * 80GB reports 81559 MiB < 80Gi), so a pool asking for `80Gi` would never land on it. When the
 * product name states a size (`…-80GB-…`) within 10 % of what GFD reports, that size counts; the
 * bound keeps a single-strategy MIG node (`…-40GB-MIG-1g.5gb`, a 4864 MiB slice) at its slice.
 */
export function gpuMemoryOf(labels: Readonly<Record<string, string>>): Fact<number> {
  const reported = fromLabels(labels, FactSources.gpuMemory);
  const product = labels[GfdLabels.product];
  if (reported.value === undefined || product === undefined || !reported.from?.startsWith(`${GfdLabels.memory}=`)) return reported;
  const stated = typeTokens(product).find((w) => /^\d+gb$/.test(w));
  const marketed = stated === undefined ? undefined : Number.parseInt(stated, 10) * 2 ** 30;
  if (marketed === undefined || marketed <= reported.value || reported.value < marketed * 0.9) return reported;
  return known(marketed, `${GfdLabels.product}=${product}, ${reported.from} MiB`);
}

/** `NVIDIA-A100-SXM4-80GB` → [nvidia, a100, sxm4, 80gb]. */
export const typeTokens = (type: string): readonly string[] =>
  type
    .toLowerCase()
    .split('-')
    .filter((s) => s !== '');

/**
 * Whether a pool's `gpuRequirements.type` names the node's GPU: case-insensitive, its `-`-separated
 * words must appear together and in order among the product's. `A100` and `A100-SXM4` match
 * `NVIDIA-A100-SXM4-80GB`; `A100` does not match `NVIDIA-A10G`, nor `H100` `NVIDIA-H200`.
 */
export function typeMatches(wanted: readonly string[], product: readonly string[]): boolean {
  if (wanted.length === 0) return false;
  for (let i = 0; i + wanted.length <= product.length; i++) {
    if (wanted.every((w, j) => product[i + j] === w)) return true;
  }
  return false;
}

/** Under the single MIG strategy GFD names the product with its slice: `NVIDIA-A100-SXM4-40GB-MIG-1g.5gb`. */
export function singleStrategyProfile(product: string | undefined): string | undefined {
  const m = product === undefined ? null : /-MIG-([0-9a-z.+]+)$/i.exec(product);
  const profile = m?.[1]?.toLowerCase();
  return profile !== undefined && MIG_PROFILE.test(profile) ? profile : undefined;
}

/**
 * Instance types whose GPUs are joined by NVLink/NVSwitch, by prefix (case-insensitive; the longest
 * matching prefix wins). The topology plugin's `instanceInterconnects` adds to or overrides these.
 */
export const DEFAULT_INSTANCE_INTERCONNECTS: Readonly<Record<string, string>> = {
  // AWS: A100 (p4d, p4de), H100 (p5), H200 (p5e, p5en): NVSwitch.
  'p4d.': 'nvswitch',
  'p4de.': 'nvswitch',
  'p5.': 'nvswitch',
  'p5e.': 'nvswitch',
  'p5en.': 'nvswitch',
  // Google Cloud: A2 (A100), A3 (H100/H200).
  'a2-highgpu-': 'nvswitch',
  'a2-megagpu-': 'nvswitch',
  'a2-ultragpu-': 'nvswitch',
  'a3-highgpu-': 'nvswitch',
  'a3-megagpu-': 'nvswitch',
  'a3-ultragpu-': 'nvswitch',
  // Azure: ND A100 v4, ND H100 v5, ND H200 v5.
  standard_nd96asr_v4: 'nvswitch',
  standard_nd96amsr_a100_v4: 'nvswitch',
  standard_nd96isr_h100_v5: 'nvswitch',
  standard_nd96isr_h200_v5: 'nvswitch',
};

/** The interconnect listed for an instance type: the longest matching prefix of `table`. */
export function instanceInterconnect(instanceType: string, table: Readonly<Record<string, string>>): Fact<string> {
  const type = instanceType.toLowerCase();
  let best: string | undefined;
  for (const prefix of Object.keys(table)) {
    if (type.startsWith(prefix.toLowerCase()) && (best === undefined || prefix.length > best.length)) best = prefix;
  }
  return best === undefined ? UNKNOWN : known((table[best] as string).toLowerCase(), `instance type ${instanceType} (table entry ${best})`);
}
