package io.transship.server.component;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.transship.oci.Digest;
import io.transship.server.logging.AccessLog;
import io.transship.server.logging.LogFormat;
import io.transship.server.testing.FakeUpstream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The access log answers "who pulled what, hit or miss, how much went out", and no byte a client
 * sends can forge or break a line (issue 10 item 5, issue 11 logs).
 */
class AccessLogTest {
  @TempDir Path root;
  FakeUpstream upstream;
  ProxyHarness harness;
  ListAppender<ILoggingEvent> events = new ListAppender<>();
  Logger access = (Logger) LoggerFactory.getLogger("transship.access");

  @BeforeEach
  void start() throws Exception {
    upstream = FakeUpstream.start();
    harness = ProxyHarness.start(upstream, root, Duration.ofMinutes(1));
    events.start();
    access.addAppender(events);
  }

  @AfterEach
  void stop() throws IOException {
    access.detachAppender(events);
    harness.close();
    upstream.close();
  }

  private List<String> lines() {
    return events.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
  }

  /** The access event of a request, waiting for it (it is logged right after the reply). */
  private ILoggingEvent eventFor(String requestId) throws InterruptedException {
    for (int i = 0; i < 500; i++) {
      for (ILoggingEvent e : List.copyOf(events.list)) {
        if (e.getFormattedMessage().contains(" id=" + requestId + " ")) {
          return e;
        }
      }
      Thread.sleep(10);
    }
    throw new AssertionError("no access log line with id " + requestId + " in " + lines());
  }

  @Test
  void aLineNamesClientRouteCacheResultBytesAndTheRequestIdSentBack() throws Exception {
    byte[] content = new byte[5000];
    new Random(1).nextBytes(content);
    Digest digest = upstream.putBlob(content);
    String path = "/v2/fake/team/app/blobs/" + digest;

    HttpResponse<byte[]> miss = harness.get(path, "X-Request-Id", "trace-123", "User-Agent", "t/1");
    // the last byte goes out once the digest checked; the store commit follows: wait for it
    for (int i = 0;
        i < 200 && harness.admin("/metrics").contains("transship_downloads_active 1");
        i++) {
      Thread.sleep(10);
    }
    HttpResponse<byte[]> hit = harness.get(path, "X-Request-Id", "bad id with spaces");

    assertThat(miss.headers().firstValue("X-Request-Id")).hasValue("trace-123");
    String generated = hit.headers().firstValue("X-Request-Id").orElseThrow();
    assertThat(generated).matches("[0-9a-f]{16}");
    String first = eventFor("trace-123").getFormattedMessage();
    assertThat(first)
        .startsWith("127.0.0.1 GET \"" + path + "\" 200 5000B ")
        .contains(" route=blob repo=fake/team/app ")
        .contains(" cache=miss ")
        .endsWith(" ua=\"t/1\"");
    String second = eventFor(generated).getFormattedMessage();
    assertThat(second).contains(" cache=hit ").contains(" upstream=- ").contains(" 5000B ");
  }

  @Test
  void aManifestMissNotesTheUpstreamTimeAndTheFormatServed() throws Exception {
    TestImages.push(upstream, "team/app", "v1", 3, 1, false);

    harness.get("/v2/fake/team/app/manifests/v1", "X-Request-Id", "m-1");
    harness.get("/v2/fake/team/app/manifests/v1", "X-Request-Id", "m-2");

    assertThat(eventFor("m-1").getFormattedMessage())
        .contains(" route=manifest repo=fake/team/app cache=miss ")
        .containsPattern(" upstream=\\d+ms ");
    assertThat(eventFor("m-2").getFormattedMessage())
        .contains(" cache=hit ")
        .contains(" upstream=- ");
  }

  @Test
  void controlBytesAndQuotesFromTheClientAreEscaped() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", harness.proxy.port())) {
      OutputStream out = socket.getOutputStream();
      // raw ESC and NUL in the request target, a quote in User-Agent trying to forge a field
      out.write(
          ("GET /v2/x\u001b[31m\u0000y/manifests/latest HTTP/1.1\r\nHost: h\r\n"
                  + "X-Request-Id: esc-test\r\n"
                  + "User-Agent: evil\" status=200 forged=\"1\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      socket.getInputStream().readAllBytes();
    }

    String line = eventFor("esc-test").getFormattedMessage();
    assertThat(line.chars()).noneMatch(c -> c < 0x20 || c == 0x7f);
    assertThat(line)
        .contains("\\x1b[31m\\x00y")
        .endsWith("ua=\"evil\\\" status=200 forged=\\\"1\"");
  }

  @Test
  void aMalformedRequestIsLoggedAsSuchNotAsAGet() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", harness.proxy.port())) {
      // the start of a TLS ClientHello sent to the plain-HTTP port
      socket.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, '\n'});
      socket.getOutputStream().write("\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      socket.setSoTimeout(10_000);
      socket.getInputStream().readAllBytes();
    }
    for (int i = 0; i < 500 && events.list.isEmpty(); i++) {
      Thread.sleep(10);
    }
    assertThat(lines()).isNotEmpty();
    String line = lines().get(0);
    assertThat(line).startsWith("127.0.0.1 - \"-\" 400 ").contains("malformed request");
    assertThat(line).doesNotContain("bad-request").doesNotContain("ua=\"null\"");
  }

  @Test
  void anAbortedDownloadLogsTheBytesThatReallyWentOut() throws Exception {
    byte[] content = new byte[48 << 20];
    new Random(2).nextBytes(content);
    Digest digest = upstream.putBlob(content);
    String path = "/v2/fake/team/app/blobs/" + digest;
    assertThat(harness.get(path).body()).hasSize(content.length); // now cached: sendfile

    try (Socket socket = new Socket("127.0.0.1", harness.proxy.port())) {
      socket.setReceiveBufferSize(64 * 1024);
      socket
          .getOutputStream()
          .write(
              ("GET " + path + " HTTP/1.1\r\nHost: h\r\nX-Request-Id: aborted-1\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      InputStream in = socket.getInputStream();
      byte[] buffer = new byte[64 * 1024];
      long read = 0;
      while (read < (1 << 20)) {
        int n = in.read(buffer);
        if (n < 0) {
          break;
        }
        read += n;
      }
      socket.setSoLinger(true, 0); // reset: the server's next write fails
    }

    String line = eventFor("aborted-1").getFormattedMessage();
    long bytes = Long.parseLong(line.replaceAll("^.* 200 (\\d+)B .*$", "$1"));
    assertThat(bytes).isGreaterThan(0).isLessThan(content.length);
    assertThat(line).contains("aborted=\"");
  }

  @Test
  void jsonLogsCarryTheFieldsAndRoundTripHostileValues() throws Exception {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    @SuppressWarnings("unchecked")
    ConsoleAppender<ILoggingEvent> console =
        (ConsoleAppender<ILoggingEvent>)
            context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getAppender("STDOUT");
    Encoder<ILoggingEvent> text = console.getEncoder();
    PrintStream stdout = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    String hostile = "ua\" \u0000\u001b\r\n}{";
    try {
      System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
      LogFormat.apply(new ObjectMapper().readTree("{\"format\":\"json\"}"));
      AccessLog.log(
          new AccessLog.Entry(
              "10.0.0.1",
              "GET",
              "/v2/x",
              200,
              42,
              3,
              "json-1",
              "blob",
              "fake/x",
              "hit",
              "zstd",
              -1,
              hostile,
              null));
    } finally {
      System.setOut(stdout);
      LogFormat.apply(new ObjectMapper().readTree("{\"format\":\"text\"}"));
      console.stop();
      console.setEncoder(text);
      if (text instanceof PatternLayoutEncoder pattern) {
        pattern.start();
      }
      console.start();
    }
    String[] out = captured.toString(StandardCharsets.UTF_8).strip().split("\n");
    JsonNode event = new ObjectMapper().readTree(out[out.length - 1]);
    assertThat(event.path("loggerName").asText()).isEqualTo("transship.access");
    assertThat(event.path("level").asText()).isEqualTo("INFO");
    assertThat(event.path("formattedMessage").asText())
        .startsWith("10.0.0.1 GET \"/v2/x\" 200 42B");
    java.util.Map<String, String> fields = new java.util.HashMap<>();
    for (JsonNode kv : event.path("kvpList")) {
      kv.fields().forEachRemaining(f -> fields.put(f.getKey(), f.getValue().asText()));
    }
    assertThat(fields)
        .containsEntry("client", "10.0.0.1")
        .containsEntry("requestId", "json-1")
        .containsEntry("cache", "hit")
        .containsEntry("format", "zstd")
        .containsEntry("bytes", "42")
        .containsEntry("userAgent", hostile);
  }
}
