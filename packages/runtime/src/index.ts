export type { Logger } from 'pino';
export {
  type CreateLoggerOptions,
  createLogger,
  type LineValue,
  lazyChild,
  lineWriter,
  maskEmail,
  maskPhone,
  REDACTED_PATHS,
} from './logger.js';
export {
  type CommonSettings,
  checkCommonSettings,
  commonSettingsSchema,
  commonSettingsShape,
  type HostPort,
  parseSettings,
  SettingsError,
  setting,
  taskDefaultsFrom,
} from './settings.js';
export { randomUuid, uuidOf } from './uuid.js';
