package dev.whack.node.http;

import static java.nio.charset.StandardCharsets.UTF_8;

/**
 * One response before it is framed: the status and the JSON body. Errors share one shape (docs/
 * http.md, "Errors"): {@code {"error":"<code>","message":"<why>"}} and, where they apply, fields
 * that name the culprit ({@code key}, {@code parameter}, {@code position}, {@code member}, {@code
 * segment}).
 *
 * @param close whether the connection closes after this answer (a request the codec could not read:
 *     nothing after it can be framed)
 */
record Answer(int status, byte[] body, boolean close) {
  static final int OK = 200;
  static final int BAD_REQUEST = 400;
  static final int UNAUTHORIZED = 401;
  static final int FORBIDDEN = 403;
  static final int NOT_FOUND = 404;
  static final int METHOD_NOT_ALLOWED = 405;
  static final int URI_TOO_LONG = 414;
  static final int TOO_MANY_REQUESTS = 429;
  static final int HEADERS_TOO_LARGE = 431;
  static final int INTERNAL = 500;
  static final int UNAVAILABLE = 503;

  static Answer ok(byte[] json) {
    return new Answer(OK, json, false);
  }

  static Answer ok(StringBuilder json) {
    return ok(json.toString().getBytes(UTF_8));
  }

  /**
   * An error; {@code fields} are name and value pairs added after the message, a value a String
   * (written as a JSON string) or a Number.
   */
  static Answer error(int status, String code, String message, Object... fields) {
    StringBuilder json = new StringBuilder(64 + message.length()).append("{\"error\":");
    Json.string(json, code).append(",\"message\":");
    Json.string(json, message);
    for (int i = 0; i + 1 < fields.length; i += 2) {
      json.append(',');
      Json.string(json, (String) fields[i]).append(':');
      if (fields[i + 1] instanceof Number n) {
        json.append(n);
      } else {
        Json.string(json, String.valueOf(fields[i + 1]));
      }
    }
    return new Answer(status, json.append('}').toString().getBytes(UTF_8), false);
  }

  /** The same answer, closing the connection after it. */
  Answer closing() {
    return new Answer(status, body, true);
  }
}
