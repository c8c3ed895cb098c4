/**
 * Values other projects label (Presidio's recognizer tests, gitleaks' and secretlint's rule tests)
 * that the recognizers missed or wrongly found, each kept here once fixed.
 */
import t from 'tap';
import { PiiDetector } from '../../extenders/builtin/guardrail/pii-detector.ts';

const detector = new PiiDetector();
const found = (text: string): string[][] => detector.scan(text).map((f) => [f.type, text.slice(f.start, f.end)]);

t.test('an e-mail address under an internationalised top-level domain (Presidio)', async (t) => {
  t.same(found('write to a@xn--d1acufc.xn--p1ai today'), [['email', 'a@xn--d1acufc.xn--p1ai']]);
  t.same(found('user@xn--80ak6aa92e.com'), [['email', 'user@xn--80ak6aa92e.com']]);
  t.same(found('my email is info@presidio.'), [], 'still no address without a top-level domain');
});

t.test('a UATP card number (15 digits starting with 1) passing Luhn is a card (Presidio)', async (t) => {
  t.same(found('my credit card: 122000000000003'), [['credit-card', '122000000000003']]);
  t.same(found('my credit card: 122000000000004'), [], 'not when it fails Luhn');
  t.same(found('1748503543012'), [], 'nor at 13 digits');
});

t.test('a digit run inside a hex hash is not a card', async (t) => {
  t.same(found('sha256:ae0d72416401cd94e46878f139708902575895acf4614ae786af8cbc17'), []);
  t.same(found('commit 4f5a4111111111111111bd'), []);
});

t.test('the IPv6 loopback and IPv4-mapped IPv6 addresses are addresses (Presidio)', async (t) => {
  t.same(found('connecting from ::1'), [['ip-address', '::1']]);
  t.same(found('Connect to ::ffff:10.0.0.1 now'), [['ip-address', '::ffff:10.0.0.1']]);
  t.same(found('[::ffff:192.168.1.1]:80'), [['ip-address', '::ffff:192.168.1.1']]);
  t.same(found('use std::fs; src=::'), [], 'a scope path and a bare :: are not');
});

t.test("placeholder tokens are not tokens (gitleaks' and secretlint's false positives)", async (t) => {
  for (const v of [
    'ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
    'AKIAXXXXXXXXXXXXXXXX',
    'AKIAIOSFODNN7EXAMPLE',
    'glptt-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
    'AIzaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  ])
    t.same(found(`key = ${v}`), [], v);
  t.same(found('aws_access_key_id = AKIALALEMEL33243OLIB'), [['aws-access-key', 'AKIALALEMEL33243OLIB']], 'a random one still is');
});

t.test('a fine-grained GitHub PAT is 82 word characters after github_pat_, however split (gitleaks)', async (t) => {
  const body = 'xmm0kytft5m2dt8p2d9ydh6vemmy22h3hbfwwrh5qfp1nj5dcsbkak8glyzixg97jfaecda3ya2xa2nhh9';
  t.same(found(`githubToken="github_pat_${body}"`), [['github-token', `github_pat_${body}`]]);
  t.same(found(`github_pat_${body.slice(0, 22)}_${body.slice(23)}`), [['github-token', `github_pat_${body.slice(0, 22)}_${body.slice(23)}`]]);
  t.same(found(`github_pat_${body.slice(1)}`), [], 'not at 81');
});

t.test("GitLab's CI job, feature-flag, incoming-mail, agent and OAuth-app tokens (gitleaks)", async (t) => {
  for (const v of [
    'glcbt-snj8h_ne3dhpat81ib5dgty1rb',
    'glffct-zlso5mmt7xr35fyptt37',
    'glimt-e7bkli51rrbhecfdxkh2i3jsf',
    'glagent-cyrsst0073ftbzl44by36fackc7y7ape3axrob516ljfw5905w',
    'gloas-cf0r9dwp7de1imnwwxo590436feyq0tao8if7e0n9umpbwnqdilpdqrxlpb85rdq',
  ])
    t.same(found(`gitlabToken="${v}"`), [['gitlab-token', v]], v);
});

t.test('a GitLab runner registration token (GR1348941…) is a GitLab token (gitleaks)', async (t) => {
  t.same(found('gitlabToken="GR1348941sppkqg0ciexkhfdgzcz3"'), [['gitlab-token', 'GR1348941sppkqg0ciexkhfdgzcz3']]);
  t.same(
    new PiiDetector({ types: ['gitlab-token'] }).scan('GR1348941sppkqg0ciexkhfdgzcz3 glpat-0123456789abcdefghijkl').length,
    2,
    'both recognizers of the type run',
  );
});

t.test('Slack app-level and config tokens, and webhooks whatever their letters (gitleaks, secretlint)', async (t) => {
  const app = 'xapp-1-A052FGTS2DL-5171572773297-610b6a11f4b7eb819e87b767d80e6575a3634791acb9a9ead051da879eb5b55e';
  t.same(found(`slackToken="${app}"`), [['slack-token', app]]);
  const refresh = 'xoxe-1-My0xLTMxNzcwMjQ0MTcxMy01MTU4MTUyNjkxNzE0LTUxODE4NDI0MDY3MzYtMjA5MGFkOTFlZThkZWE2OGFl';
  t.same(found(`refreshToken="${refresh}"`), [['slack-token', refresh]]);
  // No letter x in it: the old hint skipped such a text.
  const hook = 'https://hooks.slack.com/services/T11111AA/BAAAA111A/qKirRWalryBGqKirRWalryBG';
  t.same(found(`Treat ${hook} as secret.`), [['slack-token', hook]]);
  t.same(found('see https://hooks.slack.com/services/ for the docs'), []);
});

t.test('Stripe keys with the prod_ mode gitleaks labels', async (t) => {
  const v = 'rk_prod_51OuEMLAlTWGaDypquDn9aZigaJOsa9NR1w1BxZXs9JlYsVVkv5XDu6aLmAxwt5Tgun5WcSwQMKzQyqV16c9iD4sx00BRijuoon';
  t.same(found(v), [['stripe-key', v]]);
  t.same(found('nonMatchingToken := "task_test_0123456789abcdefghijklmnopqrst"'), []);
});

t.test('a PEM block around a placeholder body is not a key; a cut-off one still is (gitleaks, secretlint)', async (t) => {
  for (const body of ['anything', '...', '***', 'xxx', 'YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo='])
    t.same(found(`-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`), [], body);
  t.same(found('-----BEGIN OPENSSH PRIVATE KEY----------END OPENSSH PRIVATE KEY-----'), []);
  const ed25519 = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----';
  t.same(found(ed25519), [['private-key', ed25519]], 'the shortest real block is one');
  t.same(found('-----BEGIN RSA PRIVATE KEY-----\nMIIE'), [['private-key', '-----BEGIN RSA PRIVATE KEY-----\nMIIE']]);
});

t.test("a URL whose password is a placeholder carries no credentials (secretlint's look-alikes)", async (t) => {
  for (const creds of [
    '${username}:${password}',
    '{{user}}:{{pass}}',
    'username:password',
    'YOUR_USERNAME:YOUR_PASSWORD',
    'admin:REPLACE_WITH_PASSWORD',
    'testuser:xxxx',
    'postgres:postgres',
  ])
    t.same(found(`url = "https://${creds}@db.example.com/app"`), [], creds);
  t.same(found('mongodb://realuser:s3cr3tP4ss@db1.example.net:27017/production'), [['url-credentials', 'realuser:s3cr3tP4ss']]);
  t.same(found('https://user:secret123@api.example.com'), [['url-credentials', 'user:secret123']]);
});

t.test('an Anthropic key ends in AA; the same shape ending otherwise is a look-alike (gitleaks)', async (t) => {
  const body = 'abc123xyz-456def789ghij-klmnopqrstuvwx-3456yza789bcde-1234fghijklmnopby56aaaogaopaaaabc123xyz';
  t.same(found(`sk-ant-api03-${body}AA`), [['anthropic-key', `sk-ant-api03-${body}AA`]]);
  t.same(found(`sk-ant-admin01-${body}AA`), [['anthropic-key', `sk-ant-admin01-${body}AA`]]);
  t.same(found(`sk-ant-api03-${body}BB`), []);
});

t.test("an empty assignment's value is not the next line (gitleaks' look-alikes)", async (t) => {
  t.same(found('GITHUB_API_KEY=\nDYNATRACE_API_KEY='), []);
  t.same(found('snowflake.password=\njdbc.snowflake.url='), []);
  t.same(found('DB_PASSWORD =  "73ZSNwq92fT4"'), [['password', '73ZSNwq92fT4']]);
});

t.test('a value assigned to a *token, *credentials or creds name is a secret like a password (gitleaks)', async (t) => {
  t.same(found('genericToken = "Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB"'), [['password', 'Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB']]);
  t.same(found('"credentials" : "0afae57f3ccfd9d7f5767067bc48b30f719e271ba470488056e37ab35d4b6506"'), [
    ['password', '0afae57f3ccfd9d7f5767067bc48b30f719e271ba470488056e37ab35d4b6506'],
  ]);
  t.same(found('creds = SaUm3fZAj9Lo7vAKXgV1r41YWaukxA'), [['password', 'SaUm3fZAj9Lo7vAKXgV1r41YWaukxA']]);
  t.same(found('max_tokens: 1024, tokens = 2048'), [], 'token counts are not secrets');
});
