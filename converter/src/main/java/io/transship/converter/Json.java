package io.transship.converter;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;

/**
 * The one JSON mapper of this module. Strict where a lenient parser would be a hazard: duplicate
 * keys are rejected (two parsers could otherwise disagree about which descriptor a manifest names),
 * and trailing content is an error. Decimal numbers are kept exactly as written so that unknown
 * fields survive a rewrite.
 */
final class Json {
  static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
          .build();

  private Json() {}

  /** Parses {@code bytes} as one JSON value; never returns null (empty input is an error). */
  static JsonNode parse(byte[] bytes) throws IOException {
    JsonNode tree = MAPPER.readTree(bytes);
    if (tree == null || tree.isMissingNode()) {
      throw new IOException("empty JSON document");
    }
    return tree;
  }

  /** A one-line description of a parse failure, without Jackson's source excerpt. */
  static String describe(IOException e) {
    return e instanceof JsonProcessingException json ? json.getOriginalMessage() : e.getMessage();
  }

  /** Compact UTF-8 JSON, fields in the tree's order. */
  static byte[] write(JsonNode tree) {
    try {
      return MAPPER.writeValueAsBytes(tree);
    } catch (IOException e) {
      throw new IllegalStateException("a JSON tree always serializes", e);
    }
  }
}
