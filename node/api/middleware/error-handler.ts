/** Moved to `platform/api/middleware/error-handler.ts` (shared with the coordinator's API). */
export {
  INTERNAL_CODE,
  STATUS_BY_CODE,
  errorHandler,
  notFoundHandler,
  statusForCode
} from '../../../platform/api/middleware/error-handler.ts'
export type {
  ApiErrorBody,
  ErrorHandlerOptions,
  NotFoundHandlerOptions
} from '../../../platform/api/middleware/error-handler.ts'
