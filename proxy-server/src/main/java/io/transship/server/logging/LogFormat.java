package io.transship.server.logging;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import com.fasterxml.jackson.databind.JsonNode;
import io.transship.server.config.ConfigException;
import java.util.Iterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies {@code log.format}: {@code text} keeps the one-line pattern of {@code logback.xml};
 * {@code json} swaps the console encoder for logback's {@link JsonEncoder}, one JSON object per
 * line whose key/value pairs ({@code kvpList}) carry the access log's fields.
 */
public final class LogFormat {
  private static volatile boolean json;

  private LogFormat() {}

  /** Whether events are written as JSON (their key/value pairs are then worth building). */
  public static boolean isJson() {
    return json;
  }

  /** Applies the {@code log} section of the configuration. */
  public static void apply(JsonNode log) {
    String format = log.path("format").asText("text");
    switch (format) {
      case "text" -> json = false; // the pattern of logback.xml stays in place
      case "json" -> useJson();
      default -> throw new ConfigException("log.format must be text or json, got '" + format + "'");
    }
  }

  private static void useJson() {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      return;
    }
    json = true;
    var root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    Iterator<Appender<ILoggingEvent>> appenders = root.iteratorForAppenders();
    while (appenders.hasNext()) {
      if (appenders.next() instanceof ConsoleAppender<ILoggingEvent> console) {
        JsonEncoder encoder = new JsonEncoder();
        encoder.setContext(context);
        encoder.setWithSequenceNumber(false);
        encoder.setWithNanoseconds(false);
        encoder.setWithContext(false);
        encoder.setWithArguments(false);
        encoder.setWithMessage(false); // the {} template; the formatted one is kept
        encoder.setWithFormattedMessage(true);
        encoder.start();
        console.stop();
        console.setEncoder(encoder);
        console.start();
      }
    }
  }
}
