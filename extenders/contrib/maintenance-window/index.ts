/**
 * `maintenance-window`: keeps agent pods off nodes that are about to go away. An agent pod holds
 * long sessions and takes minutes to load its model, so a node that is draining, or whose host
 * maintenance starts within the hour, is a poor place for it even though kube-scheduler sees
 * nothing wrong (the pod may tolerate the taint; a maintenance notice is only a label).
 *
 * filter: rejects (unresolvable) nodes that are cordoned, carry a draining label or taint, are in
 * maintenance, or whose maintenance starts within `avoidWithin`.
 * score: 100 for a node with no maintenance ahead, less the sooner it starts (0 at now, 100 at
 * `horizon` or later); sits the call out (SKIP) when no node in the cluster has maintenance ahead.
 *
 * Load with `plugins: [neuronetes:contrib/maintenance-window]`; see README.md beside this file.
 */
import { Type } from 'typebox';
import { definePlugin, parseDuration, registerPlugin, SKIP, stateKey, type Node } from 'neuronetes';

const DURATION = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';

/** When the node's maintenance starts (ms since the epoch) and, if known, ends; or why it cannot be read. */
type Maintenance = { readonly start: number; readonly end: number | undefined; readonly from: string } | { readonly problem: string };

/** The call's time, read once so that every node of a call is judged at the same instant. */
const NOW = stateKey<number>('maintenance-window/now');

const HOUR = 3_600_000;

function inWords(ms: number): string {
  return ms >= HOUR ? `${Math.round((ms / HOUR) * 10) / 10}h` : `${Math.max(1, Math.round(ms / 60_000))}m`;
}

/** `<start>` or `<start>/<end>`, each RFC 3339 (ISO 8601's interval form). */
function parseWindow(text: string, from: string): Maintenance {
  const [first = '', second] = text.split('/');
  const start = Date.parse(first.trim());
  const end = second === undefined ? undefined : Date.parse(second.trim());
  if (Number.isNaN(start) || (end !== undefined && (Number.isNaN(end) || end < start))) {
    return { problem: `${from} ${JSON.stringify(text)} is not <RFC 3339 start>[/<RFC 3339 end>]` };
  }
  return { start, end, from };
}

export const maintenanceWindow = definePlugin({
  type: 'scheduler',
  name: 'maintenance-window',
  priority: 160,
  defaults: { weight: 10 },
  config: Type.Object(
    {
      drainingLabels: Type.Array(Type.String({ minLength: 1 }), {
        default: ['neuronetes.io/draining'],
        description: 'a node with any of these labels (any value but "false") is draining',
      }),
      drainingTaints: Type.Array(Type.String({ minLength: 1 }), {
        default: ['ToBeDeletedByClusterAutoscaler', 'karpenter.sh/disrupted', 'karpenter.sh/disruption'],
        description: 'taint keys the cluster autoscaler or Karpenter put on nodes they are removing',
      }),
      windowAnnotation: Type.String({ minLength: 1, default: 'neuronetes.io/maintenance-window', description: '<RFC 3339 start>[/<RFC 3339 end>]' }),
      startLabels: Type.Array(Type.String({ minLength: 1 }), {
        default: ['cloud.google.com/scheduled-maintenance-time'],
        description: 'labels holding the start of upcoming host maintenance in Unix seconds (GKE writes the default one)',
      }),
      avoidWithin: Type.String({ pattern: DURATION, default: '1h', description: 'reject nodes whose maintenance starts sooner than this' }),
      horizon: Type.String({ pattern: DURATION, default: '24h', description: 'maintenance this far off or further does not lower the score' }),
    },
    { additionalProperties: false },
  ),
  create: (config) => {
    const avoidWithinMs = parseDuration(config.avoidWithin);
    const horizonMs = parseDuration(config.horizon);
    if (horizonMs <= 0) throw new Error('config.horizon must be longer than 0');
    const drainingTaints = new Set(config.drainingTaints);
    const factsKey = `maintenance-window/any:${config.windowAnnotation}:${config.startLabels.join(',')}`;

    const maintenanceOf = (node: Node): Maintenance | undefined => {
      const annotated = node.metadata.annotations?.[config.windowAnnotation];
      if (annotated !== undefined) return parseWindow(annotated, `annotation ${config.windowAnnotation}`);
      for (const label of config.startLabels) {
        const text = node.metadata.labels?.[label];
        if (text === undefined) continue;
        const seconds = Number(text);
        if (!/^\d+$/.test(text) || !Number.isSafeInteger(seconds)) return { problem: `label ${label} ${JSON.stringify(text)} is not a time in Unix seconds` };
        return { start: seconds * 1000, end: undefined, from: `label ${label}` };
      }
      return undefined;
    };

    const drainingReason = (node: Node): string | undefined => {
      if (node.spec?.unschedulable === true) return 'node is cordoned';
      for (const label of config.drainingLabels) {
        const value = node.metadata.labels?.[label];
        if (value !== undefined && value !== 'false') return `node is draining (${label}=${value})`;
      }
      const taint = node.spec?.taints?.find((t) => drainingTaints.has(t.key));
      return taint === undefined ? undefined : `node is being removed (taint ${taint.key}:${taint.effect})`;
    };

    return {
      filter: (ctx, _pod, node) => {
        const draining = drainingReason(node);
        if (draining !== undefined) return { passed: false, reason: draining, unresolvable: true };
        const m = maintenanceOf(node);
        if (m === undefined) return true;
        if ('problem' in m) return { passed: false, reason: `maintenance time unreadable: ${m.problem}`, unresolvable: true };
        const now = ctx.state.readOrCompute(NOW, Date.now);
        if (m.end !== undefined && now >= m.end) return true; // over; the annotation is left behind
        if (now >= m.start) return { passed: false, reason: `node is in maintenance (${m.from})`, unresolvable: true };
        if (m.start - now < avoidWithinMs)
          return {
            passed: false,
            reason: `maintenance starts in ${inWords(m.start - now)} (${m.from}); agent pods avoid nodes within ${config.avoidWithin} of it`,
            unresolvable: true,
          };
        return true;
      },

      // A flat 100 for every node would only blur the other plugins' differences.
      preScore: (ctx) => (ctx.cluster.memo(factsKey, (view) => view.nodes().some((n) => maintenanceOf(n) !== undefined)) ? undefined : SKIP),

      score: (ctx, _pod, node) => {
        const m = maintenanceOf(node);
        if (m === undefined || 'problem' in m) return 100; // an unreadable time is the filter's to reject
        const now = ctx.state.readOrCompute(NOW, Date.now);
        if (m.end !== undefined && now >= m.end) return 100;
        return Math.round(Math.min(100, Math.max(0, ((m.start - now) / horizonMs) * 100)));
      },
    };
  },
});

registerPlugin(maintenanceWindow);
