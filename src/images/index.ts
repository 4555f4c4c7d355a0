// Public surface of src/images: references, the registry client, image facts and their options.

export { parseReference, formatReference, ImageReferenceError, type ImageReference } from './reference.js';
export { RegistryError, type RegistryErrorCode } from './errors.js';
export { RegistryClient, type RegistryClientOptions, type RepoRef, type CallOptions, type ResolvedDescriptor, type FetchedManifest } from './client.js';
export { createImageFactsSource, type ImageFacts, type ImageFactsSource, type LookupOptions, type FactsResult, type ImageFactsDeps } from './facts.js';
export { type Platform, parsePlatform, formatPlatform } from './platform.js';
export { type DockerConfigJson, type DockerAuthEntry, loadDockerConfig, findCredential } from './credentials.js';
export { type RegistryOptions, type RegistryOptionsInput, registryOptionsSchema, resolveRegistryOptions, DEFAULT_REGISTRY_OPTIONS } from './options.js';
export { parseImageUser, type ImageUser } from './user.js';
export { MEDIA_TYPES, type Descriptor, type Manifest, type ImageManifest, type ImageIndex } from './manifest.js';
