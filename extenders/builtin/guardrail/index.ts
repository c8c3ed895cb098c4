/** The built-in guardrails. */
import { registerPlugin } from 'neuronetes';
import { jailbreakHeuristic } from './jailbreak-guardrail.ts';
import { maxLength } from './max-length-guardrail.ts';
import { piiRegex } from './pii-guardrail.ts';

registerPlugin(maxLength);
registerPlugin(jailbreakHeuristic);
registerPlugin(piiRegex);
