package io.transship.server.service;

import io.transship.oci.Digest;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/** What a tag pointed to when it was last checked upstream. Stored as {@code <digest> <millis>}. */
record TagRecord(Digest digest, Instant checkedAt) {

  byte[] encode() {
    return (digest + " " + checkedAt.toEpochMilli()).getBytes(StandardCharsets.UTF_8);
  }

  static TagRecord decode(byte[] bytes) {
    String[] parts = new String(bytes, StandardCharsets.UTF_8).trim().split(" ");
    return new TagRecord(Digest.parse(parts[0]), Instant.ofEpochMilli(Long.parseLong(parts[1])));
  }

  TagRecord checkedAgain(Instant now) {
    return new TagRecord(digest, now);
  }
}
