/** The guide's pii-detection guardrail through the kit: what it finds, how it redacts. */
import t from 'tap';
import { runGuardrail } from 'neuronetes/testing';
import { PiiDetectionGuardrail } from '../../extenders/examples/pii-detection.ts';

const guardrail = new PiiDetectionGuardrail();

t.test('redacts e-mail addresses, SSNs and card numbers, naming each kind', async (t) => {
  const result = await runGuardrail(guardrail, { request: { content: 'Mail ann@example.com, SSN 219-09-9999, card 4111 1111 1111 1111.' } });
  t.same(result, {
    passed: false,
    action: 'redact',
    reason: 'Found 3 PII instances',
    confidence: 0.95,
    metadata: { redacted_content: 'Mail [EMAIL], SSN [US_SSN], card [CREDIT_CARD].', pii_types: 'email,ssn,credit-card' },
  });
});

t.test('numbers that only look like PII pass', async (t) => {
  for (const content of ['order 4111 1111 1111 1112', 'SSN 000-12-3456', 'call 666-12-3456', 'nothing here']) {
    t.same(await runGuardrail(guardrail, { request: { content } }), { passed: true, action: 'allow', confidence: 1 }, content);
  }
});
