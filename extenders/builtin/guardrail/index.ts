/** The built-in guardrails. */
import { registerGuardrail } from 'neuronetes';
import { JailbreakHeuristicGuardrail } from './jailbreak-guardrail.ts';
import { MaxLengthGuardrail } from './max-length-guardrail.ts';
import { PiiRegexGuardrail } from './pii-guardrail.ts';

registerGuardrail(new MaxLengthGuardrail());
registerGuardrail(new JailbreakHeuristicGuardrail());
registerGuardrail(new PiiRegexGuardrail());
