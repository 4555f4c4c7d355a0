// Lets Node's type stripping run the bench and the test helpers it reuses: a relative `./x.js` import
// that does not exist resolves to `./x.ts` (the repo writes `.js` suffixes, as NodeNext wants).
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (err) {
      if ((specifier.startsWith('.') || specifier.startsWith('/')) && specifier.endsWith('.js')) {
        return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
      }
      throw err;
    }
  },
});
