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
