/**
 * The plugin guide's scheduler example, in TypeScript: keep nodes labelled
 * `custom-requirement=met`, prefer `performance-tier=high`.
 *
 * Load it with `plugins: [neuronetes:examples/custom-scheduler]` and enable it under
 * `scheduler-plugins:`; the shipped config loads it disabled.
 */
import { registerScheduler, type Node, type Pod, type SchedulerContext, type SchedulerPlugin } from 'neuronetes';

export class CustomScheduler implements SchedulerPlugin {
  name(): string {
    return 'custom-scheduler';
  }

  filter(_ctx: SchedulerContext, _pod: Pod, node: Node): boolean {
    return node.metadata.labels?.['custom-requirement'] === 'met';
  }

  score(_ctx: SchedulerContext, _pod: Pod, node: Node): number {
    let score = 50;
    if (node.metadata.labels?.['performance-tier'] === 'high') score += 30;
    return score;
  }

  /** Higher priority runs first. */
  priority(): number {
    return 200;
  }
}

registerScheduler(new CustomScheduler());
