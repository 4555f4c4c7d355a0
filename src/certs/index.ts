// In-cluster certificate management (portcullis serve --cert-mode self).
export { selfManagedTlsSource, DEFAULTS } from './manager.js';
export type { SelfManagedOptions, SelfManagedTls } from './manager.js';
export { parseDuration, parseRenewBefore, DurationError } from './duration.js';
export type { RenewBefore } from './duration.js';
export { ANNOTATION as CERT_ANNOTATIONS } from './state.js';
