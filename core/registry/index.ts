// The registry client (OCI distribution spec): resolve an image for a platform, stream its blobs
// with digest checks, log in and out, push. See each module for the details.

export { Platform, hostPlatform, parsePlatform, platformFromOptions, formatPlatform, normalizePlatform, chooseEntry } from './platform';
export { Descriptor, MediaTypes, ImageManifest, ImageIndex, IndexEntry, digestOf, isValidDigest } from './manifest';
export { RegistryOptions, RepoClient, resetRegistryState } from './session';
export { RegistryError, RegistryErrorKind } from './registry-error';
export { ResolvedImage, resolveImage } from './resolve';
export { OpenBlobOptions, openBlob } from './blob';
export { LoginResult, login, logout, getLogin } from './login';
export { pushBlob, pushManifest } from './push';
export { RegistriesConf, RegistryEntry, loadRegistriesConf, registriesConfPath, parseRegistriesConf } from './registries-conf';
export { Credentials, findCredentials, primaryAuthFile, authFilePaths, credentialsKey } from './authfile';
export { closeAllAgents } from './http';
