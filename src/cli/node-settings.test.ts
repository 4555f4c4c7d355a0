import { describe, expect, it } from 'vitest';
import { NODE_ENV, NODE_FLAGS, missingSettings } from './node-settings.js';

describe('missingSettings', () => {
  it('asks for every flag and the malloc setting in a bare process', () => {
    expect(missingSettings([], {})).toEqual({ flags: [...NODE_FLAGS], env: { ...NODE_ENV } });
  });

  it('keeps a value the user gave, on the command line or in NODE_OPTIONS, in either spelling', () => {
    expect(missingSettings(['--max_old_space_size=512', '--allocation-site-pretenuring'], { NODE_OPTIONS: '--max-semi-space-size=2 --heap_growing_percent=30', MALLOC_ARENA_MAX: '4' })).toEqual({ flags: [], env: { MALLOC_TRIM_THRESHOLD_: '131072', MALLOC_MMAP_THRESHOLD_: '131072' } });
  });

  it('adds only what is missing', () => {
    expect(missingSettings([], { NODE_OPTIONS: '--max-old-space-size=200' })).toEqual({ flags: ['--max-semi-space-size=4', '--no-allocation-site-pretenuring', '--heap-growing-percent=10'], env: { ...NODE_ENV } });
  });
});
