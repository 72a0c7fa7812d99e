/**
 * Every API error answer: `{ error: { code, message } }` with the status the
 * catalog gives the code, so a code always comes with the same status.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { kafkaError } from "../adapters/kafka/kafka-errors.js";
import { ERRORS, errorBody, isBlackwellError, type ErrorCode } from "../errors.js";
import type { Logger } from "../observability/logger.js";

export function fail(reply: FastifyReply, code: ErrorCode, message: string): FastifyReply {
  return reply.code(ERRORS[code].http).send(errorBody(code, message));
}

/** Fastify's own 4xx errors (body parsing, content type, URL) into catalog codes, by their status. */
function requestErrorCode(statusCode: number): ErrorCode {
  if (statusCode === 413) return "BLACKWELL_ERR_BODY_TOO_LARGE";
  if (statusCode === 415) return "BLACKWELL_ERR_UNSUPPORTED_MEDIA_TYPE";
  return "BLACKWELL_ERR_BAD_REQUEST";
}

/**
 * The API's error handler. Our errors answer with their code; schema
 * validation and Fastify's request errors are the caller's fault (4xx); the
 * rest goes through kafkaError, so a Kafka outage during a write answers 503
 * and anything unexpected 500 without its details.
 */
export function apiErrorHandler(o: { log: Logger; bodyLimit: number }) {
  return (err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    // An internal error's message is for the log, not the caller, whoever classified it.
    if (isBlackwellError(err) && err.code !== "BLACKWELL_ERR_INTERNAL") return fail(reply, err.code, err.message);
    if (err.validation) return fail(reply, "BLACKWELL_ERR_BAD_REQUEST", validationMessage(err, req));
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      const code = requestErrorCode(err.statusCode);
      if (code === "BLACKWELL_ERR_BODY_TOO_LARGE")
        return fail(reply, code, `request body is larger than ${o.bodyLimit} bytes`);
      if (code === "BLACKWELL_ERR_UNSUPPORTED_MEDIA_TYPE") return fail(reply, code, mediaTypeMessage(req));
      return fail(reply, code, err.message);
    }
    const classified = kafkaError(err, `${req.method} ${req.routeOptions.url ?? req.url}`);
    o.log.error({ err: classified.message, code: classified.code, url: req.url }, "API request failed");
    if (classified.code === "BLACKWELL_ERR_INTERNAL") return fail(reply, classified.code, "internal error");
    return fail(reply, classified.code, classified.message);
  };
}

/** What the API reads, for a body it cannot (`curl -d` sends application/x-www-form-urlencoded unless told). */
function mediaTypeMessage(req: FastifyRequest): string {
  const sent = req.headers["content-type"] ?? "none";
  return `Content-Type ${sent} is not read here: send JSON as application/json (a blackwell.yaml document also as application/yaml)`;
}

/** Ajv's message, except for a request that came without the JSON body its route needs ("body must be object"). */
function validationMessage(err: FastifyError, req: FastifyRequest): string {
  if (err.validationContext === "body" && req.body === undefined)
    return `${req.method} ${req.routeOptions.url ?? req.url} needs a JSON body (Content-Type: application/json)`;
  return err.message;
}

/** Unknown routes answer 404 in the catalog's shape, like every other error. */
export function notFoundHandler(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return fail(reply, "BLACKWELL_ERR_NOT_FOUND", `no route ${req.method} ${req.url.split("?")[0]}`);
}
