export { ConfigError, loadConfig } from './load';
export { type AnvilConfig, ENV_KEYS } from './schema';
