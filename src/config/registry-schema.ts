// Schema of the `registry:` section: the images module owns its keys and defaults.
import { registryOptionsSchema } from '../images/options.js';

const { $schema: _s, $id: _i, ...embedded } = registryOptionsSchema as Record<string, unknown>;
export const registrySchema: Record<string, unknown> = embedded;
