// Where the conformance corpus is read from: the copy vendored in test/conformance/corpus/ (origins and licences in
// its README). PORTCULLIS_CONFORMANCE_CORPUS overrides it (a directory holding cases.json, psa/, kyverno/, gatekeeper/).
import { pathToFileURL } from 'node:url';

export const CORPUS: URL = process.env.PORTCULLIS_CONFORMANCE_CORPUS
  ? pathToFileURL(`${process.env.PORTCULLIS_CONFORMANCE_CORPUS.replace(/\/?$/, '/')}`)
  : new URL('./corpus/', import.meta.url);
