// The offline commands' logger: warnings (registry failures, ...) as one readable line each on stderr, not JSON.
import { pino } from 'pino';
import type { Logger } from 'pino';

const LEVELS: Readonly<Record<number, string>> = { 30: 'info', 40: 'warning', 50: 'error', 60: 'fatal' };
const BOOKKEEPING = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'err']);

// Formats one pino JSON line: "portcullis: warning: message: error message (key=value, ...)".
export function readableLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const level = LEVELS[Number(entry.level)] ?? 'log';
  const err = entry.err as { message?: unknown } | undefined;
  const reason = err && typeof err.message === 'string' ? `: ${err.message}` : '';
  const fields = Object.entries(entry)
    .filter(([key, value]) => !BOOKKEEPING.has(key) && value !== null && typeof value !== 'object')
    .map(([key, value]) => `${key}=${String(value)}`);
  return `portcullis: ${level}: ${String(entry.msg ?? '')}${reason}${fields.length > 0 ? ` (${fields.join(', ')})` : ''}\n`;
}

// A warn-level pino logger writing readable lines to this stream (stderr by default).
export function cliLogger(stream: { write(text: string): unknown } = process.stderr): Logger {
  return pino({ level: 'warn' }, { write: (line: string) => void stream.write(readableLine(line)) });
}
