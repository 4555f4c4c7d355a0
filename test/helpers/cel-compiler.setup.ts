// Tests build configs with custom policies synchronously (parseConfig, configFromObject), as the CLI does once
// withCelCompiler() has loaded the CEL compiler; test/integration/lazy-cel.test.ts covers the loading itself.
import { loadCelCompiler } from '../../src/custom/compiler.js';

await loadCelCompiler();
