/**
 * Prompt-injection and jailbreak screening. The text is normalised first (NFKC, zero-width and
 * direction characters dropped, Cyrillic/Greek look-alikes mapped to Latin, leetspeak and
 * s p a c e d letters undone, case folded), encoded payloads in it (base64, hex, URL-encoding, and
 * the whole text under rot13) are decoded and screened again with bounded work, and each rule that
 * matches is a finding with its weight and reason. Rules marked for tool results catch instructions
 * hidden in what a tool returned (indirect injection). Every pattern bounds its gaps: linear time.
 */
import { isUtf8 } from 'node:buffer';
import type { GuardrailDirection } from 'neuronetes';
import { BASE64_CHARS, charTable, runs } from './char-runs.ts';

export interface InjectionRule {
  readonly id: string;
  readonly pattern: RegExp;
  /** How sure a match alone makes us (0..1). */
  readonly weight: number;
  readonly reason: string;
  /** Only for these directions (default all). */
  readonly directions?: readonly GuardrailDirection[];
  /** Literal lower-case words one of which every match contains: a view with none of them skips the rule. */
  readonly words?: readonly string[];
}

export interface InjectionFinding {
  readonly rule: string;
  readonly confidence: number;
  readonly reason: string;
}

const rule = (
  id: string,
  pattern: string,
  words: readonly string[],
  weight: number,
  reason: string,
  directions?: readonly GuardrailDirection[],
): InjectionRule => ({
  id,
  pattern: new RegExp(pattern, 's'),
  words,
  weight,
  reason,
  ...(directions !== undefined ? { directions } : {}),
});

export const BUILTIN_RULES: readonly InjectionRule[] = [
  rule(
    'override',
    String.raw`\b(ignore|disregard|forget|override|bypass)\b.{0,30}\b(previous|prior|above|earlier|all|your|system|safety)\b.{0,20}\b(instructions|rules|prompts?|guidelines|directives|policies)\b`,
    ['instructions', 'rules', 'prompt', 'guidelines', 'directives', 'policies'],
    0.75,
    'asks to set aside the instructions',
  ),
  rule(
    'reveal-prompt',
    String.raw`\b(reveal|print|show|repeat|output|leak)\b.{0,30}\b(system|hidden|initial|original)\s+(prompt|instructions|message)\b`,
    ['prompt', 'instructions', 'message'],
    0.6,
    'asks for the system prompt',
  ),
  rule(
    'persona',
    String.raw`\byou are now\b.{0,40}\b(dan|unfiltered|unrestricted|jailbroken|uncensored|evil)\b`,
    ['you are now'],
    0.8,
    'assigns an unrestricted persona',
  ),
  rule('mode', String.raw`\b(developer|god|jailbreak|dan|sudo|unrestricted|opposite)\s+mode\b`, ['mode'], 0.7, 'invokes a jailbreak mode'),
  rule(
    'no-limits',
    String.raw`\b(pretend|act as if|imagine|roleplay|role-play)\b.{0,40}\b(no|without|free of)\s+(restrictions|rules|filters|limits|guidelines|morals|ethics)\b`,
    ['restrictions', 'rules', 'filters', 'limits', 'guidelines', 'morals', 'ethics'],
    0.7,
    'role-play without rules',
  ),
  rule(
    'dan',
    String.raw`\bdo anything now\b|\bstay in character\b.{0,40}\b(dan|jailbreak)|\bdan\b.{0,20}\b(jailbreak|prompt|mode)\b`,
    ['do anything now', 'stay in character', 'jailbreak', 'prompt', 'mode'],
    0.85,
    'the DAN template',
  ),
  rule(
    'aim',
    String.raw`\b(aim|always intelligent and machiavellian)\b.{0,60}\b(unfiltered|amoral|machiavellian)\b`,
    ['unfiltered', 'amoral', 'machiavellian'],
    0.8,
    'the AIM template',
  ),
  rule('grandma', String.raw`\b(dead|late|deceased)\s+grandm(a|other)\b.{0,80}\b(used to|would)\b`, ['grandm'], 0.6, 'the grandma template'),
  rule(
    'no-refusal',
    String.raw`\b(never|do not|don't|must not)\s+(refuse|decline|say (you )?can'?t)\b|\bno (ethical|moral) (guidelines|restrictions)\b`,
    ['refuse', 'decline', "can't", 'cant', 'guidelines', 'restrictions'],
    0.6,
    'forbids refusing',
  ),
  rule(
    'fake-role',
    String.raw`<\|im_start\|>\s*system|\[/?(system|inst)\]|^#{2,3}\s*(system|instruction)s?\s*:|\bnew system prompt\b`,
    ['<|im_start|>', 'system]', 'inst]', '##', 'new system prompt'],
    0.7,
    'fakes a system or instruction turn',
  ),
  rule(
    'hidden-instruction',
    String.raw`\b(ai|assistant|llm|language model|chatbot)\b.{0,40}\b(reading|processing|summari[sz]ing) this\b|\b(important|attention)\b.{0,20}\bnew instructions?\b`,
    ['reading this', 'processing this', 'summarizing this', 'summarising this', 'new instruction'],
    0.8,
    'addresses the model from inside the data',
    ['tool-result', 'input'],
  ),
  rule(
    'user-deception',
    String.raw`\b(do not|don't|never)\s+(tell|inform|mention to|show)\s+the\s+user\b|\bwithout the user('s)? (knowing|knowledge|consent)\b`,
    ['user'],
    0.85,
    'asks to hide something from the user',
    ['tool-result', 'input', 'output'],
  ),
  rule(
    'exfiltration',
    String.raw`\b(send|post|forward|upload|exfiltrate)\b.{0,60}\b(conversation|chat history|api key|password|credentials|secrets?|tokens?|the data)\b.{0,40}\b(to|at)\s+(https?://|[\w.-]+@)`,
    ['http', '@'],
    0.85,
    'asks to send data somewhere',
    ['tool-result', 'input'],
  ),
  rule(
    'tool-hijack',
    String.raw`\b(call|invoke|use|run)\b.{0,20}\b(the )?(tool|function)\b.{0,40}\b(instead|immediately|now|without asking)\b`,
    ['tool', 'function'],
    0.6,
    'tells the model which tool to call',
    ['tool-result'],
  ),
];

const ZERO_WIDTH = /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u206A-\u206F\uFEFF]/g;
/** Letters from other scripts that render like Latin ones (Unicode confusables, the common subset). */
const CONFUSABLES: Readonly<Record<string, string>> = {
  а: 'a',
  е: 'e',
  о: 'o',
  р: 'p',
  с: 'c',
  у: 'y',
  х: 'x',
  і: 'i',
  ј: 'j',
  ѕ: 's',
  ԁ: 'd',
  һ: 'h',
  ԛ: 'q',
  ԝ: 'w',
  ɡ: 'g',
  ӏ: 'l',
  в: 'b',
  к: 'k',
  м: 'm',
  н: 'h',
  т: 't',
  α: 'a',
  ε: 'e',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  γ: 'y',
  η: 'n',
};
const CONFUSABLE = new RegExp(`[${Object.keys(CONFUSABLES).join('')}]`, 'g');
/** A digit or symbol next to a letter stands for one ("1gn0r3"); numbers on their own stay. */
const LEET: readonly (readonly [symbol: string, letter: string])[] = [
  ['0', 'o'],
  ['1', 'i'],
  ['3', 'e'],
  ['4', 'a'],
  ['5', 's'],
  ['7', 't'],
  ['@', 'a'],
  ['$', 's'],
];
const LEET_LETTER: Readonly<Record<string, string>> = Object.fromEntries(LEET);
/**
 * Runs of symbols that touch a letter; the others never change, and runs cannot reach each other. Only
 * a run's first symbol tries the second branch: retried at each symbol, it took quadratic time on a long number.
 */
const LEET_RUN = /(?<=[a-z])[013457@$]+|(?<![013457@$])[013457@$]+(?=[a-z])/g;
const isLetter = (c: string | undefined): boolean => c !== undefined && c >= 'a' && c <= 'z';

/**
 * One run after the rule "each symbol in LEET's order, twice, becomes its letter where a neighbour is
 * a letter", as sixteen replacement passes over the text would leave it, for one pass over the text.
 */
function unleetRun(run: string, before: string | undefined, after: string | undefined): string {
  if (run.length === 1) return LEET_LETTER[run] as string;
  const now = [...run];
  for (let pass = 0; pass < 2; pass++)
    for (const [symbol, letter] of LEET) {
      // In place, left to right: `was` keeps the left neighbour as it was before this symbol's turn.
      let was = before;
      for (let j = 0; j < now.length; j++) {
        const c = now[j];
        if (c === symbol && (isLetter(was) || isLetter(j === now.length - 1 ? after : now[j + 1]))) now[j] = letter;
        was = c;
      }
    }
  return now.join('');
}
/** "i g n o r e", "i.g.n.o.r.e": four or more single letters joined by one separator. */
const SPACED = /\b(?:[a-z][ ._*-]){3,}[a-z]\b/g;

const NON_ASCII = /[^\x00-\x7f]/;

export function normalise(text: string): string {
  // NFKC, zero-width characters and confusables are all outside ASCII, where most traffic stays.
  const s = NON_ASCII.test(text)
    ? text
        .normalize('NFKC')
        .replace(ZERO_WIDTH, '')
        .toLowerCase()
        .replace(CONFUSABLE, (c) => CONFUSABLES[c] ?? c)
    : text.toLowerCase();
  return s
    .replace(LEET_RUN, (run: string, at: number) => unleetRun(run, s[at - 1], s[at + run.length]))
    .replace(SPACED, (m) => m.replace(/[ ._*-]/g, ''))
    .replace(/\s+/g, ' ');
}

/** At most this many payloads per text, each at most this long: decoding is bounded work. */
const MAX_PAYLOADS = 8;
const MAX_PAYLOAD_CHARS = 4_096;
const PRINTABLE = /^[\x20-\x7e\t\r\n\u00a0-\uffff]*$/;

const HEX_CHARS = charTable(/[0-9a-fA-F]/);

// Three or more escapes in one run of URL characters; the letters between them cannot be `%`, so no backtracking.
const URL_ENCODED = /(?<![\w.~+%-])(?:[\w.~+-]{0,32}%[0-9A-Fa-f]{2}){3,512}[\w.~+-]{0,64}/g;

/** Bytes that are not UTF-8 would decode with U+FFFD, never payload text: most base64-looking runs stop here, before becoming a string. */
const utf8 = (bytes: Buffer): string | undefined => (isUtf8(bytes) ? bytes.toString('utf8') : undefined);

/** Each base64 digit's value, to read a run's first bytes without decoding it. */
const BASE64_DIGIT = Uint8Array.from({ length: 128 }, (_, c) =>
  Math.max(0, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.indexOf(String.fromCharCode(c))),
);
const isControl = (b: number): boolean => (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f;

/**
 * Whether a base64 run's first three bytes, read from its first four digits, could open payload text:
 * no control character and nothing that is not UTF-8. Two runs in three fail here without a decode.
 */
function opensAsText(s: string): boolean {
  const n = [0, 1, 2, 3].reduce((bits, i) => (bits << 6) | (BASE64_DIGIT[s.charCodeAt(i)] as number), 0);
  let previous = 0;
  for (const b of [n >>> 16, (n >>> 8) & 0xff, n & 0xff]) {
    if (isControl(b) || b === 0xc0 || b === 0xc1 || b >= 0xf5) return false;
    // After ASCII (or at the start) a continuation byte is wrong, after a lead byte anything else is.
    const continues = (b & 0xc0) === 0x80;
    if (previous < 0x80 ? continues : previous >= 0xc0 && !continues) return false;
    previous = b;
  }
  return true;
}

const DECODE: Readonly<Record<string, (s: string) => string | undefined>> = {
  base64: (s) => (opensAsText(s) ? utf8(Buffer.from(s, 'base64')) : undefined),
  hex: (s) => utf8(Buffer.from(s, 'hex')),
  'url-encoding': (s) => decodeURIComponent(s.replace(/\+/g, ' ')),
};

/**
 * What could be encoded, in this order: base64 (16 to 4,096 of its characters, then up to two `=`),
 * hex (an even 24 to 4,096 digits, only inside those runs) and URL-encoding. An array: as a
 * generator it cost a fifth more, and finding them all is linear work anyway.
 */
function encoded(text: string): (readonly [name: string, value: string])[] {
  const long = runs(text, BASE64_CHARS, 16);
  const found = long.map(([start, end]): readonly [string, string] => {
    let stop = Math.min(end, start + MAX_PAYLOAD_CHARS);
    if (stop === end) while (stop < end + 2 && text[stop] === '=') stop++;
    return ['base64', text.slice(start, stop)];
  });
  for (const [start, end] of long)
    for (const [from, to] of runs(text, HEX_CHARS, 24, start, end))
      if ((to - from) % 2 === 0 && to - from <= MAX_PAYLOAD_CHARS) found.push(['hex', text.slice(from, to)]);
  if (text.includes('%')) for (const m of text.matchAll(URL_ENCODED)) found.push(['url-encoding', m[0]]);
  return found;
}

/** Over the code units in chunks: a replacer called per letter made this the hottest function of a check. */
function rot13(s: string): string {
  let out = '';
  const codes = new Array<number>(Math.min(s.length, 4_096));
  for (let from = 0; from < s.length; from += codes.length) {
    const n = Math.min(codes.length, s.length - from);
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(from + i);
      codes[i] = c >= 97 && c <= 122 ? ((c - 84) % 26) + 97 : c;
    }
    out += String.fromCharCode(...(n === codes.length ? codes : codes.slice(0, n)));
  }
  return out;
}

/** Decoded payloads that read as text, with where they came from. */
function payloads(text: string): (readonly [from: string, text: string])[] {
  const out: (readonly [string, string])[] = [];
  for (const [name, value] of encoded(text)) {
    if (out.length >= MAX_PAYLOADS) return out;
    let decoded: string | undefined;
    try {
      decoded = (DECODE[name] as (s: string) => string | undefined)(value.slice(0, MAX_PAYLOAD_CHARS));
    } catch {
      continue;
    }
    if (decoded !== undefined && decoded.length >= 8 && PRINTABLE.test(decoded) && !decoded.includes('\ufffd')) out.push([name, normalise(decoded)]);
  }
  return out;
}

type WordEntry = readonly [word: string, rules: InjectionRule[], spelling: number];

/** A bucket for three characters: their low five bits, which tell letters apart; other characters share buckets. */
const trigram = (c0: number, c1: number, c2: number): number => ((c0 & 31) << 10) | ((c1 & 31) << 5) | (c2 & 31);

/**
 * The rules whose words occur in a text, in one pass for all spellings of the words (plain and rot13
 * read the same text): each position's first three characters pick a bucket of the words that may
 * start there, then checked (an alternation of the words as one pattern cost five times more; two
 * characters, common English pairs such as "in" and "re", led to eight times as many checks).
 * Rules without words are always candidates.
 */
class RuleWords {
  /** For a trigram bucket: 1 + the index in #buckets of the words whose first three characters fall in it, or 0. */
  readonly #index = new Uint16Array(1 << 15);
  readonly #buckets: WordEntry[][] = [];
  /** Words of one or two characters, searched for on their own. */
  readonly #short: WordEntry[] = [];
  readonly #always: readonly InjectionRule[];

  constructor(rules: readonly InjectionRule[], spellings: readonly ((word: string) => string)[]) {
    spellings.forEach((spell, spelling) => {
      const rulesOf = new Map<string, InjectionRule[]>();
      for (const r of rules) for (const w of r.words ?? []) rulesOf.set(spell(w), [...(rulesOf.get(spell(w)) ?? []), r]);
      for (const [w, rulesWithIt] of rulesOf) {
        if ([...w].some((c) => c.charCodeAt(0) >= 128)) throw new TypeError(`rule word ${JSON.stringify(w)} must be ASCII`);
        const entry: WordEntry = [w, rulesWithIt, spelling];
        if (w.length < 3) {
          this.#short.push(entry);
          continue;
        }
        const key = trigram(w.charCodeAt(0), w.charCodeAt(1), w.charCodeAt(2));
        if (this.#index[key] === 0) this.#index[key] = this.#buckets.push([]);
        this.#buckets[(this.#index[key] as number) - 1]?.push(entry);
      }
    });
    this.#always = rules.filter((r) => r.words === undefined);
  }

  /** Per spelling, the candidate rules: those whose words, so spelled, occur in text[0, ends[spelling]). */
  in(text: string, ends: readonly number[]): Set<InjectionRule>[] {
    const found = ends.map(() => new Set(this.#always));
    const add = ([w, rules, spelling]: WordEntry, at: number): void => {
      if (at + w.length <= (ends[spelling] as number)) for (const r of rules) found[spelling]?.add(r);
    };
    // The first occurrence is the one most likely to end in time.
    for (const entry of this.#short) {
      const at = text.indexOf(entry[0]);
      if (at !== -1) add(entry, at);
    }
    // Fields in locals, plain loops: this loop reads every character of the text.
    const index = this.#index;
    const buckets = this.#buckets;
    let c1 = text.charCodeAt(0);
    let c2 = text.charCodeAt(1);
    for (let i = 0; i + 2 < text.length; i++) {
      const c0 = c1;
      c1 = c2;
      c2 = text.charCodeAt(i + 2);
      const bucket = index[trigram(c0, c1, c2)] as number;
      if (bucket === 0) continue;
      for (const entry of buckets[bucket - 1] as WordEntry[]) if (text.startsWith(entry[0], i)) add(entry, i);
    }
    return found;
  }
}

const ROT13_CHARS = 16_384;

export class InjectionScreen {
  readonly #rules: readonly InjectionRule[];
  /**
   * The rules' words plain and under rot13, both searched in the plain text: the rot13 view is built
   * only when a rule could match it.
   */
  readonly #words: RuleWords;

  constructor(extra: readonly string[] = []) {
    this.#rules = [
      ...BUILTIN_RULES,
      ...extra.map((p, i) => ({ id: `custom-${i + 1}`, pattern: new RegExp(p, 'is'), weight: 0.7, reason: `matches the configured pattern ${p}` })),
    ];
    this.#words = new RuleWords(this.#rules, [(w) => w, rot13]);
  }

  /** One finding per rule that matched, the strongest form first (plain, then decoded). */
  screen(text: string, direction: GuardrailDirection = 'input'): InjectionFinding[] {
    const rules = this.#rules.filter((r) => r.directions === undefined || r.directions.includes(direction));
    const plain = normalise(text);
    const head = plain.slice(0, ROT13_CHARS);
    let rotated: string | undefined;
    const [inPlain, inRot13] = this.#words.in(plain, [plain.length, head.length]) as [Set<InjectionRule>, Set<InjectionRule>];
    const views: (readonly [from: string, candidates: ReadonlySet<InjectionRule>, text: () => string])[] = [
      ['text', inPlain, () => plain],
      ...payloads(text).map(([from, t]) => [from, this.#words.in(t, [t.length, 0])[0] as Set<InjectionRule>, () => t] as const),
      ['rot13', inRot13, () => (rotated ??= rot13(head))],
    ];
    const findings: InjectionFinding[] = [];
    for (const r of rules) {
      const view = views.find(([, candidates, t]) => candidates.has(r) && r.pattern.test(t()));
      if (view === undefined) continue;
      const [from] = view;
      // Hiding an instruction in an encoding is itself a sign of intent; in a tool result, more so.
      const weight = Math.min(0.99, r.weight + (from === 'text' ? 0 : 0.1) + (direction === 'tool-result' ? 0.05 : 0));
      findings.push({ rule: r.id, confidence: weight, reason: from === 'text' ? r.reason : `${r.reason} (in a ${from} payload)` });
    }
    return findings;
  }
}

/** Independent findings combined: 1 − Π(1 − c), so two weak signs make a strong one. */
export function combined(findings: readonly InjectionFinding[]): number {
  const miss = findings.reduce((p, f) => p * (1 - f.confidence), 1);
  return Math.round(Math.min(0.99, 1 - miss) * 100) / 100;
}
