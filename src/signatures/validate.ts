// Config-time check of require-signed-images parameters: everything the schema cannot see (names, keys, files).

import { compileParams } from './authority.js';
import type { SignedImagesParams } from './params.js';

// Every problem with the parameters, each "path: expected X, got Y"; empty when they are usable.
export function signatureParamsProblems(params: SignedImagesParams): string[] {
  return [...compileParams(params).problems];
}
