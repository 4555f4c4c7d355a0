// The offline commands print warnings as readable lines, not pino JSON.
import { describe, expect, it } from 'vitest';
import { cliLogger, readableLine } from './log.js';
import { useColor } from '../audit/table.js';

describe('cliLogger', () => {
  it('writes one readable line per warning, with the error message and the plain fields', () => {
    const out: string[] = [];
    const logger = cliLogger({ write: (text) => out.push(text) });
    logger.warn({ registry: 'registry.example.com', code: 'REGISTRY_UNREACHABLE', err: new Error('connect ECONNREFUSED 127.0.0.1:1') }, 'image look-up failed');
    logger.info('not shown');
    expect(out).toEqual(['portcullis: warning: image look-up failed: connect ECONNREFUSED 127.0.0.1:1 (registry=registry.example.com, code=REGISTRY_UNREACHABLE)\n']);
    expect(out[0]).not.toContain('{');
  });

  it('passes through a line that is not JSON', () => {
    expect(readableLine('plain')).toBe('plain');
  });
});

describe('useColor', () => {
  it('colours a terminal, never with NO_COLOR, always with FORCE_COLOR', () => {
    expect(useColor({ isTTY: true }, {})).toBe(true);
    expect(useColor({ isTTY: false }, {})).toBe(false);
    expect(useColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(useColor({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
    expect(useColor({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(useColor({ isTTY: true }, { FORCE_COLOR: '1', NO_COLOR: '1' })).toBe(false);
  });
});
