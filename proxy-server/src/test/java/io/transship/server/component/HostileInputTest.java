package io.transship.server.component;

import static org.assertj.core.api.Assertions.assertThat;

import io.transship.oci.Digest;
import io.transship.oci.MediaTypes;
import io.transship.server.config.ServerLimits;
import io.transship.server.config.TransshipConfig;
import io.transship.server.testing.FakeUpstream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reliability suite, hostile input: a corpus of well over a hundred malformed, ambiguous or
 * malicious requests sent over raw sockets to a real transship. Each must get a well-formed
 * HTTP/1.1 answer (an OCI error JSON body on every 4xx/5xx that has a body) or a clean close, never
 * a 500, never a hang; the proxy must still serve a normal client afterwards. Prints the figures.
 */
class HostileInputTest {
  private static final Pattern STATUS = Pattern.compile("^HTTP/1\\.1 (\\d{3}) ");

  @TempDir Path root;
  FakeUpstream upstream;
  ProxyHarness harness;
  Digest blob;
  Digest manifest;

  @BeforeEach
  void start() throws Exception {
    upstream = FakeUpstream.start();
    byte[] content = new byte[200_000];
    new Random(1).nextBytes(content);
    blob = upstream.putBlob(content);
    manifest =
        upstream.putManifest(
            "team/app",
            "v1",
            ("{\"schemaVersion\":2,\"mediaType\":\""
                    + MediaTypes.OCI_MANIFEST
                    + "\",\"config\":{\"mediaType\":\""
                    + MediaTypes.OCI_CONFIG
                    + "\",\"digest\":\""
                    + blob
                    + "\",\"size\":200000},\"layers\":[]}")
                .getBytes(StandardCharsets.UTF_8),
            MediaTypes.OCI_MANIFEST);
    upstream.putManifest(
        "team/app", "garbage", "not json at all".getBytes(StandardCharsets.UTF_8), "text/plain");
    TransshipConfig base = ProxyHarness.config(upstream, root, Duration.ofMinutes(1), null, null);
    harness =
        ProxyHarness.start(
            new TransshipConfig(
                base.listen(),
                base.adminListen(),
                base.storage(),
                base.tagTtl(),
                base.defaultUpstream(),
                base.upstreams(),
                base.conversion(),
                new ServerLimits(
                    Duration.ofSeconds(2), Duration.ofMinutes(1), 1000, 1000, 8192, 32768),
                64L << 20),
            upstream);
  }

  @AfterEach
  void stop() throws IOException {
    harness.close();
    upstream.close();
  }

  /** The corpus: name → raw bytes. */
  private Map<String, byte[]> corpus() {
    Map<String, byte[]> c = new TreeMap<>();
    String ok = "/v2/fake/team/app/manifests/v1";
    String b = "/v2/fake/team/app/blobs/" + blob;
    // request lines
    String[] methods = {
      "get",
      "GETT",
      "G\tET",
      "CONNECT",
      "TRACE",
      "OPTIONS",
      "PROPFIND",
      "POST",
      "PUT",
      "DELETE",
      "PATCH",
      "BREW",
      "X".repeat(300),
      "",
      "\u00e9T"
    };
    for (String m : methods) {
      c.put("method " + abbreviate(m), req(m + " " + ok + " HTTP/1.1", "Host: p"));
    }
    String[] targets = {
      "/v2/../../etc/passwd",
      "/v2/%2e%2e/%2e%2e/etc/passwd",
      "/v2/fake/team/app/manifests/%00",
      "/v2/fake/team/app/blobs/sha256:xyz",
      "/v2/fake/team/app/blobs/sha256:" + "a".repeat(63),
      "/v2/fake/team/app/blobs/md5:" + "a".repeat(32),
      "*",
      "http://evil.example/v2/",
      "//evil.example/v2/",
      "/v2/UPPER/Case/manifests/v1",
      "/v2/fake//team/manifests/v1",
      "/v2/fake%2Fteam%2Fapp/manifests/v1",
      "/v2/fake/team/app/manifests/" + "t".repeat(200),
      "/v2/fake/team/app/manifests/-bad",
      "/v2/fake/team/app/tags/list?n=-1",
      "/v2/fake/team/app/tags/list?n=abc",
      "/v2/fake/team/app/tags/list?n=99999999999999",
      "/v2/fake/team/app/tags/list?last=" + "%ff".repeat(50),
      "/v2/x/manifests/v1?ns=evil.example",
      "/v2/fake/team/app/manifests/v1?ns=127.0.0.1:1",
      "/v2/fake/team/app/referrers/not-a-digest",
      "/v2/" + "a/".repeat(200) + "manifests/v1",
      "/v2/fake/team/app/blobs/uploads/",
      "/v2/_catalog",
      "/v1/_ping",
      "/",
      "/admin/metrics",
      "/v2/fake/team/app/manifests/garbage",
      "/v2/fake/team/app/manifests/sha256:" + "0".repeat(64),
      "/v2/\u00fcnic\u00f8de/manifests/v1",
      "/v2/fake/team/app/manifests/v1?" + "q=1&".repeat(500),
      "/v2/%",
      "/v2/%zz/manifests/v1",
      "/v2/fake/team/app/manifests/v1#frag",
      "v2/no/slash/manifests/v1",
    };
    for (String t : targets) {
      c.put("target " + abbreviate(t), req("GET " + t + " HTTP/1.1", "Host: p"));
    }
    // versions
    for (String v :
        new String[] {
          "HTTP/9.9",
          "HTTP/2.0",
          "HTTP/0.9",
          "HTTP/1",
          "HTTX/1.1",
          "http/1.1",
          "HTTP/1.1 extra",
          "HTTP/01.1",
          ""
        }) {
      c.put("version " + abbreviate(v), req(("GET " + ok + " " + v).trim(), "Host: p"));
    }
    // headers
    String[][] headers = {
      {"no host"},
      {"Host: a", "Host: b"},
      {"Host : p"},
      {"Host: p", "NoColonHere"},
      {"Host: p", " folded: continuation"},
      {"Host: p", "X-Folded: a", "\tcontinued"},
      {"Host: p", "Content-Length: 5", "Content-Length: 6"},
      {"Host: p", "Content-Length: -1"},
      {"Host: p", "Content-Length: abc"},
      {"Host: p", "Content-Length: 99999999999999999999"},
      {"Host: p", "Transfer-Encoding: chunked", "Content-Length: 3"},
      {"Host: p", "Transfer-Encoding: gzip"},
      {"Host: p", "Transfer-Encoding: chunked, identity"},
      {"Host: p", "Expect: 100-continue"},
      {
        "Host: p",
        "Upgrade: h2c",
        "Connection: Upgrade, HTTP2-Settings",
        "HTTP2-Settings: AAMAAABkAAQAAP__"
      },
      {"Host: p", "Range: bytes=9-1"},
      {"Host: p", "Range: bytes=--"},
      {"Host: p", "Range: bytes=0-,0-,0-,0-,0-,0-,0-,0-"},
      {"Host: p", "Range: bytes=" + "0-0,".repeat(300) + "1-1"},
      {"Host: p", "Range: items=0-1"},
      {"Host: p", "Range: bytes=99999999999999999999-"},
      {"Host: p", "Accept: " + "a/b,".repeat(500)},
      {"Host: p", "User-Agent: \u001b[31mred\u0000nul\""},
      {"Host: p", "X-Big: " + "x".repeat(40_000)},
      {"Host: p", "Authorization: Bearer " + "t".repeat(10_000)},
      {"Host: " + "h".repeat(9000)},
      {"Host: p", "If-None-Match: *"},
      {"Host: p", "Connection: keep-alive, close, upgrade"},
      {"Host: p", "X-Null: a\u0000b"},
      {"Host: p", "Content-Type: multipart/form-data; boundary="},
    };
    for (int i = 0; i < headers.length; i++) {
      c.put(
          "headers " + i + " " + abbreviate(String.join("|", headers[i])),
          req(
              "GET " + b + " HTTP/1.1",
              headers[i][0].equals("no host") ? new String[0] : headers[i]));
    }
    for (int i = 0; i < 200; i += 20) {
      String[] many = new String[i + 1];
      many[0] = "Host: p";
      for (int j = 1; j <= i; j++) {
        many[j] = "X-" + j + ": v";
      }
      c.put("many headers " + i, req("GET " + ok + " HTTP/1.1", many));
    }
    // bodies on write methods, broken chunked bodies
    c.put(
        "post body", bytes("POST " + b + " HTTP/1.1\r\nHost: p\r\nContent-Length: 5\r\n\r\nhello"));
    c.put(
        "put chunked",
        bytes(
            "PUT "
                + ok
                + " HTTP/1.1\r\nHost: p\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
    c.put(
        "bad chunk size",
        bytes(
            "POST "
                + b
                + " HTTP/1.1\r\nHost: p\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n"));
    c.put(
        "huge chunk size",
        bytes(
            "POST "
                + b
                + " HTTP/1.1\r\nHost: p\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n"));
    c.put(
        "smuggle CL.TE",
        bytes(
            "POST / HTTP/1.1\r\nHost: p\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /v2/ HTTP/1.1\r\nHost: p\r\n\r\n"));
    c.put(
        "body on GET",
        bytes("GET " + ok + " HTTP/1.1\r\nHost: p\r\nContent-Length: 4\r\n\r\nbody"));
    // framing
    c.put("only CRLF", bytes("\r\n\r\n"));
    c.put("LF only", bytes("GET " + ok + " HTTP/1.1\nHost: p\n\n"));
    c.put("CR only", bytes("GET " + ok + " HTTP/1.1\rHost: p\r\r"));
    c.put("incomplete headers", bytes("GET " + ok + " HTTP/1.1\r\nHost: p\r\n"));
    c.put("incomplete line", bytes("GET " + ok));
    c.put("nothing", new byte[0]);
    c.put("endless line", bytes("GET /" + "a".repeat(20_000)));
    c.put("NUL in line", bytes("GET /v2/\u0000 HTTP/1.1\r\nHost: p\r\n\r\n"));
    c.put("spaces", bytes("GET  " + ok + "  HTTP/1.1\r\nHost: p\r\n\r\n"));
    c.put("leading CRLF", bytes("\r\n\r\nGET /v2/ HTTP/1.1\r\nHost: p\r\n\r\n"));
    c.put(
        "pipelined garbage",
        bytes("GET /v2/ HTTP/1.1\r\nHost: p\r\n\r\n\u0016\u0003\u0001garbage\r\n\r\n"));
    byte[] tls = {0x16, 0x03, 0x01, 0x00, (byte) 0xa5, 0x01, 0x00, 0x00, (byte) 0xa1, 0x03, 0x03};
    c.put("TLS client hello", tls);
    c.put("HTTP/2 preface", bytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
    Random random = new Random(99);
    for (int i = 0; i < 10; i++) {
      byte[] noise = new byte[100 + random.nextInt(4000)];
      random.nextBytes(noise);
      c.put("random bytes " + i, noise);
    }
    for (int i = 0; i < 10; i++) {
      byte[] line = req("GET " + ok + " HTTP/1.1", "Host: p");
      line[random.nextInt(line.length)] = (byte) random.nextInt(256);
      line[random.nextInt(line.length)] = (byte) random.nextInt(256);
      c.put("flipped bytes " + i, line);
    }
    return c;
  }

  @Test
  void everyMalformedRequestGetsAWellFormedAnswerOrACleanClose() throws Exception {
    Map<String, byte[]> corpus = corpus();
    assertThat(corpus).hasSizeGreaterThanOrEqualTo(100);
    Map<String, Integer> outcomes = new TreeMap<>();
    List<String> bad = new ArrayList<>();
    long started = System.nanoTime();
    for (Map.Entry<String, byte[]> entry : corpus.entrySet()) {
      String outcome;
      try {
        outcome = exchange(entry.getValue());
      } catch (AssertionError | IOException e) {
        outcome = "BAD";
        bad.add(entry.getKey() + ": " + e.getMessage());
      }
      if (outcome.equals("500")) {
        bad.add(entry.getKey() + ": 500");
      }
      outcomes.merge(outcome, 1, Integer::sum);
    }
    System.out.printf(
        "[hostile] %d requests in %d ms; outcomes %s%n",
        corpus.size(), (System.nanoTime() - started) / 1_000_000, outcomes);
    assertThat(bad).as("requests without a well-formed answer or clean close").isEmpty();
    assertThat(harness.get("/v2/").statusCode()).isEqualTo(200);
    assertThat(harness.get("/v2/fake/team/app/manifests/" + manifest).statusCode()).isEqualTo(200);
  }

  /**
   * Sends the bytes and reads one answer: returns its status, or "closed" for a clean close without
   * an answer. Fails on anything else (a malformed answer, a hang).
   */
  private String exchange(byte[] request) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", harness.proxy.port())) {
      socket.setSoTimeout(15_000);
      try {
        socket.getOutputStream().write(request);
        socket.getOutputStream().flush();
      } catch (IOException e) {
        // the server may close before taking everything: what it answered still counts
      }
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      try {
        int c;
        while ((c = in.read()) >= 0) {
          head.write(c);
          if (endsWithBlankLine(head)) {
            break;
          }
        }
      } catch (SocketTimeoutException e) {
        throw new AssertionError("no answer and no close within 15 s");
      } catch (IOException e) {
        // reset: a close
      }
      String headText = head.toString(StandardCharsets.ISO_8859_1);
      if (headText.isEmpty()) {
        return "closed";
      }
      Matcher status = STATUS.matcher(headText);
      assertThat(status.find()).as("status line of " + abbreviate(headText)).isTrue();
      assertThat(endsWithBlankLine(head)).as("complete header section").isTrue();
      int code = Integer.parseInt(status.group(1));
      Matcher length = Pattern.compile("(?im)^content-length: *(\\d+)\\r$").matcher(headText);
      if (code >= 400 && length.find() && Long.parseLong(length.group(1)) > 0) {
        byte[] body = in.readNBytes(Integer.parseInt(length.group(1)));
        String json = new String(body, StandardCharsets.UTF_8);
        assertThat(headText.toLowerCase(Locale.ROOT)).contains("content-type: application/json");
        assertThat(json).startsWith("{\"errors\":[{\"code\":");
      }
      return Integer.toString(code);
    }
  }

  private static boolean endsWithBlankLine(ByteArrayOutputStream head) {
    byte[] b = head.toByteArray();
    int n = b.length;
    return n >= 4 && b[n - 4] == '\r' && b[n - 3] == '\n' && b[n - 2] == '\r' && b[n - 1] == '\n';
  }

  private static byte[] req(String line, String... headers) {
    StringBuilder s = new StringBuilder(line).append("\r\n");
    for (String h : headers) {
      s.append(h).append("\r\n");
    }
    return bytes(s.append("\r\n").toString());
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String abbreviate(String s) {
    String printable = s.replaceAll("[^\\x20-\\x7e]", "?");
    return printable.length() <= 60 ? printable : printable.substring(0, 60) + "...";
  }
}
