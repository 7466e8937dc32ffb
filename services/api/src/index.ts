// The API as a library: what main.ts wires together, for embedders and tests.
export { type ApiKey, matchApiKey, parseApiKeys, SCOPES, type Scope } from './api-keys.js';
export { type App, type AppDeps, buildApp } from './app.js';
export { type ApiSettings, apiSettingsSchema, loadApiSettings } from './env.js';
