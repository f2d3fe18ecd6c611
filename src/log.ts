import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs (pretty on a terminal). Secrets and form contents never go to the log at info level: known secret
 * paths are redacted wherever they appear, and callers log ids and reasons, not bodies.
 */
export function createLogger(level = 'info', destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'ticketflow' },
    redact: {
      paths: ['*.secret', '*.app_secret', '*.appSecret', '*.token', '*.encrypt', '*.password', 'headers.authorization', '*.headers.authorization', '*["x-lark-signature"]', '*["x-ticketflow-signature"]', '*["x-ticketflow-signature-v11"]'],
      censor: '[redacted]',
    },
  };
  if (destination) return pino(options, destination);
  if (process.stdout.isTTY && process.env.NODE_ENV !== 'test') {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'service,pid,hostname' } } });
  }
  return pino(options);
}
