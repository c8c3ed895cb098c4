/**
 * Recognizers of credentials, after gitleaks' and secretlint's rule sets. secretlint's preset is a
 * per-file linter (async rule contexts, sources and reports), too heavy for a synchronous check in
 * the request path, so its rules are written here with bounded runs and a boundary at every start.
 * Prefixed tokens are near-certain; shapeless ones (AWS secret keys, `password=` values) need a
 * context word or high entropy.
 */
import { PRIVATE_KEY_BEGIN } from 'neuronetes';
import { BASE64_CHARS, runs } from './char-runs.ts';
import { shannonEntropy } from './checksums.ts';
import { patternRecognizer, type Finding, type Recognizer } from './recognizer.ts';

const SECRET_CONTEXT = ['key', 'token', 'secret', 'auth', 'credential', 'bearer', 'export ', 'env'];

/**
 * A prefixed token. A body of a repeated character (`ghp_xxxx…`, `AKIAXXXXXXXXXXXXXXXX`) or AWS's documented
 * `…EXAMPLE` key is a placeholder, as gitleaks and secretlint judge it; real tokens are random.
 */
function token(type: string, placeholder: string, pattern: RegExp, hint: string, score = 0.95): Recognizer {
  const validate = (v: string): boolean => shannonEntropy(v) >= 2 && !v.endsWith('EXAMPLE');
  return patternRecognizer({ type, placeholder, kind: 'secret', pattern, hint, score, validate, context: SECRET_CONTEXT });
}

function base64UrlJson(part: string): unknown {
  const decoded = Buffer.from(part, 'base64url').toString('utf8');
  // Throwing costs tens of microseconds: text that cannot be an object is turned away first.
  if (!decoded.startsWith('{') || !decoded.endsWith('}')) return undefined;
  try {
    return JSON.parse(decoded);
  } catch {
    return undefined;
  }
}

/** Values that stand for a secret rather than being one: `${VAR}`, `<token>`, `****`, `changeme`… */
const PLACEHOLDER_VALUE = /^(?:[$%<{[*]|x{4,}|(?:changeme|password|secret|redacted|example|placeholder|null|none|true|false|undefined)\b)/i;

function highEntropy(value: string): boolean {
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((r) => r.test(value)).length;
  return !PLACEHOLDER_VALUE.test(value) && classes >= 2 && shannonEntropy(value) >= 3;
}

/**
 * PEM private-key blocks: found with indexOf rather than one pattern, because a lazy `[\s\S]*?`
 * between the armour lines rescans the rest of the text from every BEGIN; a block cut off before
 * its END line (a streamed chunk, a truncated paste) is still reported up to where its body stops.
 */
const PEM_BODY = /[A-Za-z0-9+/=:,\- \t\r\n]{0,16384}/y;
const PEM_MAX_BODY = 16_384;
/** Base64 characters in the shortest real key block (Ed25519 in PKCS#8 has 64) with room to spare. */
const PEM_MIN_BODY = 40;

const privateKeyBlock: Recognizer = {
  type: 'private-key',
  placeholder: 'PRIVATE_KEY',
  kind: 'secret',
  validated: false,
  *find(text: string): Iterable<Finding> {
    if (!text.includes('PRIVATE KEY')) return;
    // Copies: the scan of one text must not move another's position.
    const begin = new RegExp(PRIVATE_KEY_BEGIN);
    const body = new RegExp(PEM_BODY);
    let endsLeft = true;
    for (let m = begin.exec(text); m !== null; m = begin.exec(text)) {
      const start = m.index;
      const bodyFrom = start + m[0].length;
      let end = -1;
      let endAt = -1;
      if (endsLeft) {
        // No END after this BEGIN means none after any later one either: searched once, not per BEGIN.
        endAt = text.indexOf('-----END ', bodyFrom);
        const close = endAt < 0 ? -1 : text.indexOf('-----', endAt + 9);
        if (close < 0) endsLeft = false;
        else if (endAt - bodyFrom <= PEM_MAX_BODY) end = close + 5;
      }
      // A whole block around `...`, `xxx` or a short line is a placeholder (gitleaks', secretlint's
      // look-alikes); a block cut off before its END is reported whatever its body so far.
      if (end > 0 && (text.slice(bodyFrom, endAt).match(/[A-Za-z0-9+/]/g)?.length ?? 0) < PEM_MIN_BODY) {
        begin.lastIndex = end;
        continue;
      }
      if (end < 0) {
        body.lastIndex = bodyFrom;
        end = bodyFrom + (body.exec(text)?.[0].trimEnd().length ?? 0);
      }
      begin.lastIndex = end;
      yield { type: 'private-key', start, end, confidence: 1 };
    }
  },
};

// `token` also covers auth_token, access_token and the like: the name may sit up to 40 characters into its word.
const SECRET_NAME = String.raw`(?:password|passwd|pwd|passphrase|secret|api[_-]?key|apikey|access[_-]?key|token|credentials?|creds|private[_-]?key)`;
/**
 * A secret's name, at most 40 name characters into a word (`db.password`, `STRIPE_API_KEY`), then
 * its value on the same line. The name is matched first and the word's start checked behind it: starting at every
 * word and lazily trying each name at each of 40 offsets cost 5x more (7 -> 1.3 µs per KB).
 */
const ASSIGNMENT = new RegExp(
  String.raw`${SECRET_NAME}(?<=(?:^|[^\w.-])[\w.-]{0,40}${SECRET_NAME})["']?[ \t]{0,4}(?:[:=]|=>)[ \t]{0,4}["'\`]?([^\s"'\`,;]{8,200})`,
  'dgi',
);

export function secretRecognizers(): Recognizer[] {
  return [
    privateKeyBlock,
    patternRecognizer({
      type: 'jwt',
      placeholder: 'JWT',
      kind: 'secret',
      pattern: /(?<![\w-])eyJ[A-Za-z0-9_-]{8,4096}\.eyJ[A-Za-z0-9_-]{8,8192}\.[A-Za-z0-9_-]{0,1024}(?![\w-])/g,
      hint: 'eyJ',
      score: 0.9,
      validate: (v) => {
        const header = base64UrlJson(v.slice(0, v.indexOf('.')));
        return typeof header === 'object' && header !== null && 'alg' in header;
      },
      context: ['bearer', 'authorization', 'jwt', 'token'],
    }),
    // Anthropic keys end in `AA` (gitleaks labels a `…BB` ending a look-alike).
    token('anthropic-key', 'ANTHROPIC_KEY', /(?<![\w-])sk-ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{78,118}AA(?![\w-])/g, 'sk-ant-', 0.98),
    token(
      'openai-key',
      'OPENAI_KEY',
      /(?<![\w-])sk-(?:(?:proj|svcacct|admin)-)?[A-Za-z0-9_-]{20,200}T3BlbkFJ[A-Za-z0-9_-]{20,200}(?![\w-])|(?<![\w-])sk-proj-[A-Za-z0-9_-]{40,200}(?![\w-])/g,
      'sk-',
      0.97,
    ),
    // Fine-grained PATs are 82 word characters after the prefix (22_59 today; gitleaks takes any split).
    token('github-token', 'GITHUB_TOKEN', /(?<![\w])(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_\w{82})(?!\w)/g, 'g'),
    // GitLab's documented prefixes (personal, deploy, runner, trigger, feed, SCIM, CI job, feature-flag,
    // incoming-mail, agent and OAuth-app tokens).
    token(
      'gitlab-token',
      'GITLAB_TOKEN',
      /(?<![\w-])(?:glpat|gldt|glrt|glptt|glft|glsoat|glcbt|glffct|glimt|glagent|gloas)-[A-Za-z0-9_-]{20,64}(?![\w-])/g,
      'gl',
    ),
    // Runner registration tokens have no `gl` in them: a recognizer of their own, so the hint above still holds.
    token('gitlab-token', 'GITLAB_TOKEN', /(?<![\w-])GR1348941[A-Za-z0-9_-]{20,64}(?![\w-])/g, 'GR1348941'),
    // Bot, user, workspace, legacy, refresh/config (xoxe) and app-level (xapp-1-) tokens.
    token('slack-token', 'SLACK_TOKEN', /(?<![\w-])(?:xox[abposre]|xapp-\d)-[A-Za-z0-9-]{10,250}(?![\w-])/g, 'x'),
    // Webhook URLs hold no `x` to skip a text by; their path is 43-56 characters, as gitleaks matches it.
    token(
      'slack-token',
      'SLACK_TOKEN',
      /(?<![\w.-])(?:https?:\/\/)?hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9+/]{43,56}(?![A-Za-z0-9+/])/g,
      'hooks.slack.com',
    ),
    token('stripe-key', 'STRIPE_KEY', /(?<![\w-])(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{24,247}(?!\w)/g, 'k_'),
    token('google-api-key', 'GOOGLE_API_KEY', /(?<![\w-])AIza[A-Za-z0-9_-]{35}(?![\w-])/g, 'AIza'),
    token('npm-token', 'NPM_TOKEN', /(?<![\w-])npm_[A-Za-z0-9]{36}(?!\w)/g, 'npm_'),
    token('aws-access-key', 'AWS_KEY', /(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}(?![A-Z0-9])/g, 'A'),
    patternRecognizer({
      type: 'aws-secret-key',
      placeholder: 'AWS_SECRET',
      kind: 'secret',
      // Forty base64 characters are also hashes and ids: without an AWS word nearby it stays below any threshold.
      // Runs of exactly 40, not followed by `=`: /(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g.
      pattern: (text) => runs(text, BASE64_CHARS, 40).filter(([start, end]) => end - start === 40 && text[end] !== '='),
      score: 0.3,
      validate: (v) => /[a-z]/.test(v) && /[A-Z]/.test(v) && /\d/.test(v) && shannonEntropy(v) >= 4.2,
      context: ['aws_secret', 'aws secret', 'secret_access_key', 'secretaccesskey', 'aws'],
    }),
    patternRecognizer({
      type: 'password',
      placeholder: 'PASSWORD',
      kind: 'secret',
      // Only the value is reported, so `password=[PASSWORD]` still says what was there.
      pattern: ASSIGNMENT,
      group: 1,
      score: 0.85,
      validate: highEntropy,
    }),
  ];
}
