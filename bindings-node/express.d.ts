// Types of express.js: the middleware works with Express 4/5 and plain `http` servers.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { RateLimiter, RateLimitResult } from './redkit'

export interface RateLimitMiddlewareOptions<Req extends IncomingMessage = IncomingMessage> {
  /** The identifier of a request (default `req.ip`, else the socket address); `null`/`undefined` lets it through unlimited. */
  key?: (req: Req) => string | null | undefined | Promise<string | null | undefined>
  /** Cost units of a request (default 1). */
  cost?: (req: Req) => number | Promise<number>
  /** Set RateLimit-Limit / -Remaining / -Reset (default true). */
  headers?: boolean
  /** Answers a refused request instead of the default JSON body (status and headers already set); must end the response. */
  onDenied?: (req: Req, res: ServerResponse, result: RateLimitResult) => void | Promise<void>
}

declare global {
  // Express's own Request (`@types/express`) gets the decision too, so `req.rateLimit`
  // type-checks in an Express handler without a cast.
  namespace Express {
    interface Request {
      /** The decision of redkit's `rateLimit` middleware; absent when it did not limit the request (a null key). */
      rateLimit?: RateLimitResult
    }
  }
}

/** A request the middleware has seen: the decision is on `req.rateLimit`. */
export interface RateLimitedRequest extends IncomingMessage {
  rateLimit?: RateLimitResult
}

/** Express middleware: 429 + Retry-After + JSON body on a denial, RateLimit-* headers always. */
export declare function rateLimit<Req extends IncomingMessage = IncomingMessage>(
  limiter: RateLimiter,
  opts?: RateLimitMiddlewareOptions<Req>,
): (req: Req, res: ServerResponse, next: (err?: unknown) => void) => Promise<void>
