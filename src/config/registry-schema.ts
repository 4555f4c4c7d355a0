// Schema of the `registry:` section (the images module owns the keys and their defaults).
export const registrySchema: Record<string, unknown> = {
  type: 'object',
  properties: { enabled: { type: 'boolean' } },
};
