/**
 * Recognizers of personal data: e-mail, phone (libphonenumber's metadata), payment cards (issuer
 * ranges + Luhn), IBAN (ibantools: country length + mod 97), US SSN and ITIN, IPv4/IPv6, crypto
 * wallets (base58check, bech32/bech32m, Ethereum) and URLs carrying credentials. Every pattern starts
 * at a boundary and bounds its runs, so each start costs a constant and the scan is linear.
 */
import { electronicFormatIBAN, isValidIBAN } from 'ibantools';
import { Metadata, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { isIPv4, isIPv6 } from 'node:net';
import { base58CheckValid, bech32AddressValid, cardNumberValid } from './checksums.ts';
import { patternRecognizer, type Recognizer } from './recognizer.ts';

// Lookaheads are split rather than alternated: V8 runs `(?!a)(?!b)` many times faster than `(?!a|b)`.

/** Words that make a number an identifier of something else: an order, a build, a ticket. */
const NOT_PERSONAL = [
  'order',
  'invoice',
  'tracking',
  'ticket',
  'sku',
  'serial',
  'build',
  'version',
  'release',
  'ref #',
  'ref:',
  'request id',
  'trace',
  'txn',
  'isbn',
];

const SSN_SAMPLES = new Set([
  '123-45-6789',
  '987-65-4321',
  '111-11-1111',
  '222-22-2222',
  '333-33-3333',
  '444-44-4444',
  '555-55-5555',
  '777-77-7777',
  '888-88-8888',
]);

function ssnValid(value: string): boolean {
  const d = value.replace(/[ -]/g, '');
  if (SSN_SAMPLES.has(`${d.slice(0, 3)}-${d.slice(3, 5)}-${d.slice(5)}`)) return false;
  const area = Number(d.slice(0, 3));
  return area !== 0 && area !== 666 && area < 900 && d.slice(3, 5) !== '00' && d.slice(5) !== '0000';
}

/** ITINs start with 9 and have a group in 50–65, 70–88, 90–92 or 94–99. */
function itinValid(value: string): boolean {
  const group = Number(value.replace(/[ -]/g, '').slice(3, 5));
  return (group >= 50 && group <= 65) || (group >= 70 && group <= 88) || (group >= 90 && group <= 92) || group >= 94;
}

/** Whether `start` is inside a URL's user part (`https://user:pw@host`), looking back a bounded way. */
function inUserinfo(text: string, start: number): boolean {
  const before = text.slice(Math.max(0, start - 200), start);
  const scheme = before.lastIndexOf('://');
  return scheme >= 0 && !/[\s/@]/.test(before.slice(scheme + 3));
}

/**
 * A URL password that stands for one, as secretlint's look-alikes have it: a template (`${PASS}`,
 * `{{pass}}`, `<password>`), a word naming it (`YOUR_PASSWORD`, `mypassword`), one repeated
 * character, or the user's name again (`postgres:postgres`, a well-known default).
 */
function placeholderPassword(user: string, password: string): boolean {
  return /^[$%<{[*]/.test(password) || (/password|secret/i.test(password) && !/\d/.test(password)) || /^(.)\1*$/.test(password) || password === user;
}

/**
 * Fewest digits a number written without `+` can have in the country: a national prefix or an IDD
 * only adds digits, so anything shorter cannot be valid there and skips the library's parse.
 */
function shortestNational(country: CountryCode): number {
  const metadata = new Metadata();
  metadata.selectNumberingPlan(country);
  return Math.min(...(metadata.numberingPlan?.possibleLengths() ?? [0]));
}

/**
 * Spans of a pattern searched from a literal (`@`, `:`) with the value's start looked behind for in
 * capture 1 (the match's own start where that group took no part): as a pattern tried at every word
 * start it cost several times more. A start reaching back into the previous match is skipped: the
 * forward scan had moved past it.
 */
function anchoredSpans(pattern: RegExp): (text: string) => (readonly [number, number])[] {
  const own = new RegExp(pattern);
  return (text) => {
    const spans: (readonly [number, number])[] = [];
    own.lastIndex = 0;
    for (let m = own.exec(text), scanned = 0; m !== null; m = own.exec(text)) {
      const start = m.indices?.[1]?.[0] ?? m.index;
      if (start < scanned) continue;
      scanned = m.index + m[0].length;
      spans.push([start, scanned]);
    }
    return spans;
  };
}

/**
 * E-mail addresses as /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9-])/g
 * finds them (a whole run of local-part characters, RFC 5321 lengths), searched from each `@` (1 KB: 12.8 -> 1.1 µs).
 */
// A top-level domain is letters or an IDN's punycode (`xn--p1ai`, .рф).
const EMAIL_AT = /@(?<=(?<![A-Za-z0-9._%+-])([A-Za-z0-9._%+-]{1,64})@)(?:[A-Za-z0-9-]{1,63}\.){1,8}(?:[A-Za-z]{2,24}|xn--[A-Za-z0-9-]{1,59})(?![A-Za-z0-9-])/dg;

/**
 * IP addresses as /(?<![\w.:])(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?::(?:\d{1,3}\.){3}\d{1,3})?)(?!\w)(?!\.\d)(?!:\D)/g
 * finds them, IPv6 searched from its first colon (1 KB: 7.0 -> 1.9 µs, identical on 300,000 random strings).
 * IPv6 candidates are any colon-separated hex groups (times and MACs too); node:net decides.
 */
const IP_ADDRESS =
  /(?<![\w.:])(?:\d{1,3}\.){3}\d{1,3}(?!\w)(?!\.\d)(?!:\D)|:(?<=(?<![\w.:])([0-9A-Fa-f]{0,4}):)[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){1,6}(?::(?:\d{1,3}\.){3}\d{1,3})?(?!\w)(?!\.\d)(?!:\D)/dg;

/**
 * URL credentials as /\b[a-z][a-z0-9+.-]{1,20}:\/\/([^\s:@/]{1,64}:[^\s@/]{1,128})@[a-z0-9-]{1,63}/dgi finds
 * them, searched from each `://` with the scheme looked behind for: the pattern tried every word start.
 */
const URL_CREDENTIALS = /(?<=\b(?<scheme>[a-z][a-z0-9+.-]{1,20})):\/\/(?<credentials>[^\s:@/]{1,64}:[^\s@/]{1,128})@[a-z0-9-]{1,63}/dgi;
const URL_CREDENTIALS_FROM_SCHEME = /\b[a-z][a-z0-9+.-]{1,20}:\/\/(?<credentials>[^\s:@/]{1,64}:[^\s@/]{1,128})@[a-z0-9-]{1,63}/dgi;

function urlCredentialSpans(): (text: string) => (readonly [number, number])[] {
  const at = new RegExp(URL_CREDENTIALS);
  const whole = new RegExp(URL_CREDENTIALS_FROM_SCHEME);
  return (text) => {
    const spans: (readonly [number, number])[] = [];
    at.lastIndex = 0;
    for (let m = at.exec(text), scanned = 0; m !== null; m = at.exec(text)) {
      // The scheme looked behind for (its longest reading) reaches into the previous match: the
      // whole pattern, from where that match ended, says what the forward scan finds.
      if ((m.indices?.groups?.['scheme']?.[0] ?? 0) < scanned) {
        whole.lastIndex = scanned;
        m = whole.exec(text);
        if (m === null) break;
        at.lastIndex = whole.lastIndex;
      }
      scanned = at.lastIndex;
      const span = m.indices?.groups?.['credentials'];
      if (span !== undefined) spans.push(span);
    }
    return spans;
  };
}

export function piiRecognizers(defaultCountry: CountryCode = 'US'): Recognizer[] {
  const nationalDigits = shortestNational(defaultCountry);
  return [
    patternRecognizer({
      type: 'url-credentials',
      placeholder: 'URL_CREDENTIALS',
      kind: 'secret',
      // Only the user:password part is reported, so the redacted URL still names its host.
      pattern: urlCredentialSpans(),
      hint: '://',
      score: 0.95,
      validate: (v) => !placeholderPassword(v.slice(0, v.indexOf(':')), v.slice(v.indexOf(':') + 1)),
    }),
    patternRecognizer({
      type: 'email',
      placeholder: 'EMAIL',
      pattern: anchoredSpans(EMAIL_AT),
      hint: '@',
      score: 0.9,
      // `https://token@host` and `https://user:pw@host` are a URL's user part, not an address.
      validate: (v, text, start) => !v.startsWith('.') && !v.includes('..') && !inUserinfo(text, start),
      context: ['mail', 'contact', 'reach'],
    }),
    patternRecognizer({
      type: 'iban',
      placeholder: 'IBAN',
      pattern: /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])/g,
      score: 0.95,
      validated: true,
      validate: (v) => isValidIBAN(electronicFormatIBAN(v) ?? ''),
      context: ['iban', 'bank', 'account', 'transfer', 'sepa', 'wire'],
    }),
    patternRecognizer({
      type: 'credit-card',
      placeholder: 'CREDIT_CARD',
      // Printed groupings only (a run, 4-4-4-4, Amex/Diners 4-6-5/4-6-4), so a card followed by
      // other digits ("… 3564 12/26") is not swallowed into a longer run that fails Luhn. Not
      // next to a letter: digit runs inside hex hashes pass Luhn one time in ten.
      pattern: /(?<![\dA-Za-z.-])(?:\d{12,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{4}|\d{4}([ -])\d{6}\2\d{4,5})(?![\dA-Za-z-])(?!\.\d)/g,
      score: 0.9,
      validated: true,
      validate: (v) => cardNumberValid(v.replace(/[ -]/g, '')),
      context: ['card', 'visa', 'mastercard', 'amex', 'payment', 'credit', 'debit', 'cc'],
      against: NOT_PERSONAL,
    }),
    patternRecognizer({
      type: 'crypto-wallet',
      placeholder: 'CRYPTO_WALLET',
      pattern:
        /(?<![A-Za-z0-9])(?:[13][1-9A-HJ-NP-Za-km-z]{25,34}|(?:bc|tb)1[02-9ac-hj-np-z]{8,87}|(?:BC|TB)1[02-9AC-HJ-NP-Z]{8,87}|0x[0-9a-fA-F]{40})(?![A-Za-z0-9])/g,
      score: 0.9,
      validated: true,
      // Ethereum's mixed-case checksum needs Keccak, which node:crypto lacks: those get a lower score.
      validate: (v) => (v.startsWith('0x') ? 0.75 : v[0] === '1' || v[0] === '3' ? base58CheckValid(v) : bech32AddressValid(v)),
      context: ['wallet', 'bitcoin', 'btc', 'eth', 'ethereum', 'crypto', 'usdt', 'send to'],
    }),
    patternRecognizer({
      type: 'ssn',
      placeholder: 'US_SSN',
      pattern: /(?<![\d-])[0-8]\d\d([- ])\d\d\1\d{4}(?![\d-])/g,
      score: 0.6,
      validated: true,
      validate: ssnValid,
      context: ['ssn', 'social security', 'social sec'],
      against: NOT_PERSONAL,
    }),
    patternRecognizer({
      type: 'itin',
      placeholder: 'US_ITIN',
      pattern: /(?<![\d-])9\d\d([- ])\d\d\1\d{4}(?![\d-])/g,
      score: 0.6,
      validated: true,
      validate: itinValid,
      context: ['itin', 'taxpayer', 'tax id', 'irs'],
      against: NOT_PERSONAL,
    }),
    patternRecognizer({
      type: 'ip-address',
      placeholder: 'IP_ADDRESS',
      pattern: anchoredSpans(IP_ADDRESS),
      score: 0.6,
      // An IPv6 address needs a hex group before a colon pair (`a::b` in code is not one), unless it
      // carries an IPv4 address (`::ffff:10.0.0.1`) or is the loopback `::1`.
      validate: (v) =>
        isIPv4(v)
          ? true
          : isIPv6(v) && (/[0-9a-f]{1,4}:[0-9a-f]{0,4}:/i.test(v) || /\d\.\d/.test(v) || v === '::1') && v.replace(/[^:]/g, '').length >= 2
            ? 0.75
            : false,
      context: ['ip', 'address', 'host', 'server', 'client', 'addr', 'from', 'remote'],
      against: ['version', 'release', 'firmware', 'build', ' v', 'oid'],
    }),
    patternRecognizer({
      type: 'phone',
      placeholder: 'PHONE',
      pattern: /(?<![\w+.\-/:])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}(?![\w/])(?![.:-]\d)/g,
      score: 0.6,
      validate: (v) => {
        const digits = v.replace(/\D/g, '');
        if (digits.length < 8 || digits.length > 15) return false;
        // A bare run of digits, or a dotted one, is an id or a version far more often than a phone.
        if (!/[ ()+-]/.test(v)) return false;
        // About 30 µs a parse: shapes too short for the default country (SSN and date look-alikes) stop here.
        if (!v.startsWith('+') && digits.length < nationalDigits) return false;
        return parsePhoneNumberFromString(v, defaultCountry)?.isValid() === true;
      },
      validateBudget: 2_000,
      context: ['phone', 'call', 'tel', 'mobile', 'cell', 'fax', 'whatsapp', 'sms', 'text me', 'dial'],
      against: NOT_PERSONAL,
    }),
  ];
}
