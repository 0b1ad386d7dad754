/**
 * Hostile values for the fuzz campaigns: huge and odd strings, unicode (lone surrogates included), prototype-pollution
 * keys, wrong types, deep nesting, non-finite and absurd numbers and quantities — and `mutate`, which drops such
 * values into random places of an otherwise plausible object. Values are built lazily where they are big, and every
 * object is fresh per sample (the code under test must not see a shared mutable object twice).
 */
import fc from 'fast-check';

/** 1 MiB of ASCII and ~1 MiB of three-byte characters: shared, strings are immutable. */
export const HUGE_ASCII = 'x'.repeat(1 << 20);
export const HUGE_UNICODE = '界'.repeat(1 << 19);

export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'] as const;

/** Nested arrays (or objects) `depth` deep, built iteratively (no recursion in the generator itself). */
export function nested(depth: number, kind: 'array' | 'object' = 'array'): unknown {
  let v: unknown = kind === 'array' ? [] : {};
  for (let i = 0; i < depth; i++) v = kind === 'array' ? [v] : { a: v };
  return v;
}

/** Its JSON text, also iterative: JSON.stringify of a very deep value overflows the stack. */
export function nestedJson(depth: number, kind: 'array' | 'object' = 'array'): string {
  return kind === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}{}${'}'.repeat(depth)}`;
}

export const oddStrings = fc.constantFrom(
  '',
  ' ',
  '-',
  '-a-',
  'a-',
  'A',
  'a..b',
  'a'.repeat(64),
  'a'.repeat(129),
  'a'.repeat(254),
  '\u0000',
  '\ud800',
  '\udfff\ud800',
  '\u202e\u200b',
  'ñame',
  '名前',
  '🦄🦄',
  'acs:x',
  'aliyun-x',
  'https://x',
  '$(SECRET)',
  '$(HOME',
  `$${'{x}'}`,
  '../../etc/passwd',
  '<script>',
  '"\\\n\t',
  '__proto__',
  'constructor',
  'toString',
);

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: oddStrings },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom(HUGE_ASCII, HUGE_UNICODE) },
);

export const hostileNumber = fc.constantFrom(
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -1,
  -0,
  0,
  0.5,
  1e21,
  2 ** 53 + 2,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  65536,
  70000,
  -2147483649,
);

/** Kubernetes-quantity-looking strings at and beyond every edge. */
export const absurdQuantity = fc.constantFrom(
  '1e309',
  '999999999Ei',
  '1Ei',
  '-1',
  '-0',
  '0',
  'NaN',
  'Infinity',
  '1e-400',
  '0x10',
  ' 1',
  '1 ',
  '',
  '1.5.5',
  '9'.repeat(400),
  '1E3Gi',
  '+1',
  '0.0000001m',
  '1e3',
  '64',
  '65',
  '64.0000001',
  '.5',
  '5.',
  'm',
  'Gi',
  '100000000000000000000m',
);

const PROTO_JSON = [
  '{"__proto__":{"polluted":"yes"}}',
  '{"constructor":{"prototype":{"polluted":"yes"}}}',
  '{"__proto__":null,"name":"x"}',
  '{"__proto__":[],"length":3}',
  '{"toString":"not a function","valueOf":1}',
];

/** Objects with own `__proto__` / `constructor` keys, as JSON.parse makes them (fresh per sample). */
export const protoObject: fc.Arbitrary<unknown> = fc.constantFrom(...PROTO_JSON).map((t) => JSON.parse(t));

export const wrongType: fc.Arbitrary<unknown> = fc
  .constantFrom<() => unknown>(
    () => null,
    () => true,
    () => false,
    () => 0,
    () => 1,
    () => 'str',
    () => [],
    () => ({}),
    () => [null],
    () => [1, 2],
    () => ({ length: 5 }),
    () => [[[]]],
    () => ({ 0: 'a', 1: 'b' }),
  )
  .map((f) => f());

export const deepValue: fc.Arbitrary<unknown> = fc
  .tuple(fc.integer({ min: 50, max: 20_000 }), fc.constantFrom<'array' | 'object'>('array', 'object'))
  .map(([d, k]) => nested(d, k));

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: hostileString },
  { weight: 4, arbitrary: hostileNumber },
  { weight: 4, arbitrary: absurdQuantity },
  { weight: 3, arbitrary: protoObject },
  { weight: 4, arbitrary: wrongType },
  { weight: 1, arbitrary: deepValue },
  { weight: 2, arbitrary: fc.anything({ maxDepth: 3, maxKeys: 4 }) },
);

/** Field names worth planting: the ones the translation reads, and pollution keys. */
const PLANT_KEYS = [
  ...PROTO_KEYS,
  'name',
  'namespace',
  'uid',
  'image',
  'resources',
  'limits',
  'requests',
  'cpu',
  'memory',
  'ephemeral-storage',
  'nvidia.com/gpu',
  'containers',
  'initContainers',
  'volumes',
  'env',
  'envFrom',
  'valueFrom',
  'ports',
  'containerPort',
  'hostPort',
  'securityContext',
  'annotations',
  'labels',
  'ownerReferences',
  'dnsConfig',
  'hostAliases',
  'imagePullSecrets',
  'sysctls',
  'command',
  'args',
  'volumeMounts',
  'livenessProbe',
  'lifecycle',
  'projected',
  'sources',
  'emptyDir',
  'sizeLimit',
  'terminationGracePeriodSeconds',
  'activeDeadlineSeconds',
];

export interface Mutation {
  at: number;
  mode: 'set' | 'plant' | 'delete';
  key: number;
  value: unknown;
}

export const mutations: fc.Arbitrary<Mutation[]> = fc.array(
  fc.record({
    at: fc.nat(),
    mode: fc.constantFrom<Mutation['mode']>('set', 'set', 'plant', 'delete'),
    key: fc.nat(),
    value: hostileValue,
  }),
  { maxLength: 4 },
);

/** Objects and arrays of `root`, breadth first, at most `max` of them and not below `maxDepth`. */
function containers(root: unknown, max = 2000, maxDepth = 12): object[] {
  const out: object[] = [];
  const queue: { v: unknown; d: number }[] = [{ v: root, d: 0 }];
  const seen = new Set<object>();
  for (let i = 0; i < queue.length && out.length < max; i++) {
    const { v, d } = queue[i] as { v: unknown; d: number };
    if (!v || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    out.push(v);
    if (d >= maxDepth) continue;
    for (const k of Object.keys(v)) queue.push({ v: (v as Record<string, unknown>)[k], d: d + 1 });
  }
  return out;
}

/**
 * Removes a key; an array loses the element and shifts the rest, never gets a hole (a pod comes from JSON or YAML,
 * which have none). No splice: a planted own `constructor` key breaks Array species lookups.
 */
function remove(node: Record<string, unknown>, key: string): void {
  if (!Array.isArray(node)) {
    delete node[key];
    return;
  }
  const arr = node as unknown[];
  for (let i = Number(key); i < arr.length - 1; i++) arr[i] = arr[i + 1];
  arr.length = Math.max(0, arr.length - 1);
}

/** Applies mutations in place: replaces, plants (with own-property semantics, as JSON.parse would) or deletes. */
export function mutate<T>(root: T, ms: readonly Mutation[]): T {
  for (const m of ms) {
    const nodes = containers(root);
    const node = nodes[m.at % Math.max(1, nodes.length)] as Record<string, unknown> | undefined;
    if (!node) continue;
    const keys = Object.keys(node);
    // arrays get no named keys: JSON and YAML cannot give them any
    if ((m.mode === 'plant' || keys.length === 0) && !Array.isArray(node)) {
      const key = PLANT_KEYS[m.key % PLANT_KEYS.length] as string;
      Object.defineProperty(node, key, { value: m.value, enumerable: true, writable: true, configurable: true });
      continue;
    }
    if (keys.length === 0) continue;
    const key = keys[m.key % keys.length] as string;
    if (m.mode === 'delete') remove(node, key);
    else Object.defineProperty(node, key, { value: m.value, enumerable: true, writable: true, configurable: true });
  }
  return root;
}

/** Object.prototype as it was when this module loaded; a case that changes it has polluted the process. */
const PROTO_BASELINE = Object.getOwnPropertyNames(Object.prototype).sort().join(',');

export function prototypePolluted(): boolean {
  const probe: Record<string, unknown> = {};
  return Object.getOwnPropertyNames(Object.prototype).sort().join(',') !== PROTO_BASELINE || probe.polluted !== undefined;
}
