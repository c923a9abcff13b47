package io.transship.server.reply;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** A response as a service produces it: status, headers in order, body. */
public record Reply(int status, Map<String, String> headers, Body body) {

  public Reply {
    headers = Collections.unmodifiableMap(new LinkedHashMap<>(headers));
  }

  /** A copy with {@code name: value} added (replacing an existing value). */
  public Reply withHeader(String name, String value) {
    Map<String, String> copy = new LinkedHashMap<>(headers);
    copy.put(name, value);
    return new Reply(status, copy, body);
  }

  /** The same reply without a body but with its headers, {@code Content-Length} included. */
  public Reply headOnly() {
    Map<String, String> copy = new LinkedHashMap<>(headers);
    if (body.length() >= 0 && !(body instanceof Body.Empty)) {
      copy.put("Content-Length", Long.toString(body.length()));
    }
    return new Reply(status, copy, new Body.Empty());
  }
}
