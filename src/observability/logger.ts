/** The service's pino logger: JSON to stdout, level from LOG_LEVEL (default info). */
import { pino, type Logger, type LevelWithSilent } from 'pino';

const LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function createLogger(level: string | undefined = process.env['LOG_LEVEL']): Logger {
  const chosen = level !== undefined && LEVELS.includes(level) ? (level as LevelWithSilent) : 'info';
  const logger = pino({ level: chosen, base: { service: 'neuronetes' } });
  if (level !== undefined && chosen !== level) logger.warn({ LOG_LEVEL: level }, `unknown LOG_LEVEL, using info; one of ${LEVELS.join(', ')}`);
  return logger;
}
