package io.transship.server.reply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.transship.oci.ByteRange;
import io.transship.oci.ErrorCode;
import io.transship.oci.RegistryException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class RangeRepliesTest {

  private static final Map<String, String> HEADERS =
      Map.of("Docker-Content-Digest", "sha256:" + "0".repeat(64));

  private static final byte[] CONTENT = content(1000);

  private static byte[] content(int size) {
    byte[] bytes = new byte[size];
    for (int i = 0; i < size; i++) {
      // every byte value, including CR, LF and '-', so framing bugs show up
      bytes[i] = (byte) (i * 7 + i / 256);
    }
    return bytes;
  }

  /** An in-memory source that counts how often it is closed. */
  private static final class ByteArraySource implements RangeSource {
    final byte[] bytes;
    final Path file;
    int closed;

    ByteArraySource(byte[] bytes) {
      this(bytes, null);
    }

    ByteArraySource(byte[] bytes, Path file) {
      this.bytes = bytes;
      this.file = file;
    }

    @Override
    public long size() {
      return bytes.length;
    }

    @Override
    public Optional<Path> localFile() {
      return Optional.ofNullable(file);
    }

    @Override
    public void copy(ByteRange range, BodySink sink) throws IOException {
      // write in small uneven chunks, as a real source would
      long position = range.first();
      while (position <= range.last()) {
        int n = (int) Math.min(37, range.last() - position + 1);
        sink.write(bytes, (int) position, n);
        position += n;
      }
    }

    @Override
    public void close() {
      closed++;
    }
  }

  private static byte[] drain(Body body) throws IOException {
    assertThat(body).isInstanceOf(Body.Stream.class);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ((Body.Stream) body).streamer().writeTo(out::write);
    return out.toByteArray();
  }

  private static byte[] slice(byte[] bytes, long first, long last) {
    return Arrays.copyOfRange(bytes, (int) first, (int) last + 1);
  }

  private record Part(Map<String, String> headers, byte[] body) {}

  /**
   * A strict reader of a {@code multipart/byteranges} body (RFC 9110 section 14.6, RFC 2046 section
   * 5.1.1): every part's length comes from its Content-Range, and the framing around it must be
   * exactly right, so a wrong byte count anywhere fails the parse.
   */
  private static List<Part> parseMultipart(byte[] body, String boundary) {
    byte[] delimiter = ("--" + boundary).getBytes(StandardCharsets.US_ASCII);
    List<Part> parts = new ArrayList<>();
    int at = 0;
    at = expect(body, at, delimiter);
    while (true) {
      if (startsWith(body, at, "--".getBytes(StandardCharsets.US_ASCII))) {
        at = expect(body, at + 2, "\r\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(at).as("bytes after the close delimiter").isEqualTo(body.length);
        return parts;
      }
      at = expect(body, at, "\r\n".getBytes(StandardCharsets.US_ASCII));
      Map<String, String> headers = new LinkedHashMap<>();
      while (true) {
        int eol = indexOf(body, at, "\r\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(eol).as("end of part header line").isGreaterThanOrEqualTo(0);
        String line = new String(body, at, eol - at, StandardCharsets.US_ASCII);
        at = eol + 2;
        if (line.isEmpty()) {
          break;
        }
        int colon = line.indexOf(':');
        headers.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
      }
      Matcher m =
          Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+)").matcher(headers.get("Content-Range"));
      assertThat(m.matches()).as("Content-Range %s", headers.get("Content-Range")).isTrue();
      int length = (int) (Long.parseLong(m.group(2)) - Long.parseLong(m.group(1)) + 1);
      assertThat(at + length).isLessThanOrEqualTo(body.length);
      parts.add(new Part(headers, Arrays.copyOfRange(body, at, at + length)));
      at += length;
      at = expect(body, at, "\r\n".getBytes(StandardCharsets.US_ASCII));
      at = expect(body, at, delimiter);
    }
  }

  private static int expect(byte[] body, int at, byte[] expected) {
    assertThat(startsWith(body, at, expected))
        .as("expected %s at offset %d", new String(expected, StandardCharsets.US_ASCII), at)
        .isTrue();
    return at + expected.length;
  }

  private static boolean startsWith(byte[] body, int at, byte[] prefix) {
    return at + prefix.length <= body.length
        && Arrays.equals(body, at, at + prefix.length, prefix, 0, prefix.length);
  }

  private static int indexOf(byte[] body, int from, byte[] needle) {
    for (int i = from; i + needle.length <= body.length; i++) {
      if (startsWith(body, i, needle)) {
        return i;
      }
    }
    return -1;
  }

  private static String boundaryOf(String contentType) {
    Matcher m = Pattern.compile("multipart/byteranges; boundary=(\\S+)").matcher(contentType);
    assertThat(m.matches()).as("Content-Type %s", contentType).isTrue();
    return m.group(1);
  }

  @Test
  void withoutRangeTheWholeBodyIsSentWith200() throws IOException {
    ByteArraySource source = new ByteArraySource(CONTENT);

    Reply reply = RangeReplies.reply(HEADERS, source, null);

    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.headers())
        .containsEntry("Accept-Ranges", "bytes")
        .containsEntry("Content-Type", "application/octet-stream")
        .containsAllEntriesOf(HEADERS)
        .doesNotContainKey("Content-Range");
    assertThat(reply.body().length()).isEqualTo(CONTENT.length);
    assertThat(drain(reply.body())).isEqualTo(CONTENT);
    assertThat(source.closed).isEqualTo(1);
  }

  @Test
  void invalidRangeHeaderIsIgnoredAndTheWholeBodySent() throws IOException {
    Reply reply = RangeReplies.reply(HEADERS, new ByteArraySource(CONTENT), "bytes=oops");

    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.headers()).containsEntry("Accept-Ranges", "bytes");
    assertThat(drain(reply.body())).isEqualTo(CONTENT);
  }

  @Test
  void emptyRepresentationIsA200WithAnEmptyBody() {
    Reply reply = RangeReplies.reply(HEADERS, new ByteArraySource(new byte[0]), null);

    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.headers()).containsEntry("Accept-Ranges", "bytes");
    assertThat(reply.body()).isInstanceOf(Body.Empty.class);
    assertThat(reply.headOnly().headers()).doesNotContainKey("Content-Length");
  }

  @Test
  void aContentTypeGivenByTheCallerIsKept() {
    Map<String, String> headers = Map.of("Content-Type", "application/vnd.oci.image.layer.v1.tar");

    Reply whole = RangeReplies.reply(headers, new ByteArraySource(CONTENT), null);
    Reply single = RangeReplies.reply(headers, new ByteArraySource(CONTENT), "bytes=0-0");

    assertThat(whole.headers())
        .containsEntry("Content-Type", "application/vnd.oci.image.layer.v1.tar");
    assertThat(single.headers())
        .containsEntry("Content-Type", "application/vnd.oci.image.layer.v1.tar");
  }

  @Test
  void singleRangeIsA206WithContentRange() throws IOException {
    ByteArraySource source = new ByteArraySource(CONTENT);

    Reply reply = RangeReplies.reply(HEADERS, source, "bytes=100-199");

    assertThat(reply.status()).isEqualTo(206);
    assertThat(reply.headers())
        .containsEntry("Content-Range", "bytes 100-199/1000")
        .containsEntry("Accept-Ranges", "bytes")
        .containsEntry("Content-Type", "application/octet-stream")
        .containsAllEntriesOf(HEADERS);
    assertThat(reply.body().length()).isEqualTo(100);
    assertThat(drain(reply.body())).isEqualTo(slice(CONTENT, 100, 199));
    assertThat(source.closed).isEqualTo(1);
  }

  @Test
  void suffixRangeIsServedFromTheEnd() throws IOException {
    Reply reply = RangeReplies.reply(HEADERS, new ByteArraySource(CONTENT), "bytes=-10");

    assertThat(reply.status()).isEqualTo(206);
    assertThat(reply.headers()).containsEntry("Content-Range", "bytes 990-999/1000");
    assertThat(drain(reply.body())).isEqualTo(slice(CONTENT, 990, 999));
  }

  @Test
  void headOnlyOfASingleRangeReportsThePartLength() {
    Reply reply = RangeReplies.reply(HEADERS, new ByteArraySource(CONTENT), "bytes=0-9");

    Reply head = reply.headOnly();

    assertThat(head.status()).isEqualTo(206);
    assertThat(head.headers()).containsEntry("Content-Length", "10");
    assertThat(head.body()).isInstanceOf(Body.Empty.class);
  }

  @Test
  void multipleRangesAreA206MultipartWhosePartsParseBack() throws IOException {
    ByteArraySource source = new ByteArraySource(CONTENT);

    Reply reply = RangeReplies.reply(HEADERS, source, "bytes=900-989,0-9, 500-500,-3");

    assertThat(reply.status()).isEqualTo(206);
    assertThat(reply.headers())
        .containsEntry("Accept-Ranges", "bytes")
        .containsAllEntriesOf(HEADERS)
        .doesNotContainKey("Content-Range");
    String boundary = boundaryOf(reply.headers().get("Content-Type"));
    byte[] body = drain(reply.body());
    assertThat(reply.body().length()).as("declared Content-Length").isEqualTo(body.length);
    assertThat(source.closed).isEqualTo(1);

    List<Part> parts = parseMultipart(body, boundary);

    assertThat(parts).hasSize(4);
    assertThat(parts)
        .extracting(p -> p.headers().get("Content-Range"))
        .containsExactly(
            "bytes 900-989/1000", "bytes 0-9/1000", "bytes 500-500/1000", "bytes 997-999/1000");
    assertThat(parts)
        .allSatisfy(
            p -> assertThat(p.headers()).containsEntry("Content-Type", "application/octet-stream"));
    assertThat(parts.get(0).body()).isEqualTo(slice(CONTENT, 900, 989));
    assertThat(parts.get(1).body()).isEqualTo(slice(CONTENT, 0, 9));
    assertThat(parts.get(2).body()).isEqualTo(slice(CONTENT, 500, 500));
    assertThat(parts.get(3).body()).isEqualTo(slice(CONTENT, 997, 999));
  }

  @Test
  void multipartPartsCarryTheCallersContentType() throws IOException {
    Map<String, String> headers = Map.of("Content-Type", "application/vnd.oci.image.layer.v1.tar");

    Reply reply = RangeReplies.reply(headers, new ByteArraySource(CONTENT), "bytes=0-1,5-6");

    byte[] body = drain(reply.body());
    List<Part> parts = parseMultipart(body, boundaryOf(reply.headers().get("Content-Type")));
    assertThat(parts)
        .allSatisfy(p ->
            assertThat(p.headers())
                .containsEntry("Content-Type", "application/vnd.oci.image.layer.v1.tar"));
    assertThat(reply.body().length()).isEqualTo(body.length);
  }

  @Test
  void multipartBoundaryDoesNotOccurInTheParts() throws IOException {
    Reply reply = RangeReplies.reply(HEADERS, new ByteArraySource(CONTENT), "bytes=0-499,500-999");
    String boundary = boundaryOf(reply.headers().get("Content-Type"));

    List<Part> parts = parseMultipart(drain(reply.body()), boundary);

    for (Part part : parts) {
      assertThat(indexOf(part.body(), 0, boundary.getBytes(StandardCharsets.US_ASCII)))
          .isNegative();
    }
  }

  @Test
  void multipleRangesFromALocalFileAreStillStreamed() throws IOException {
    ByteArraySource source = new ByteArraySource(CONTENT, Path.of("/nonexistent/blob"));

    Reply reply = RangeReplies.reply(HEADERS, source, "bytes=0-1,10-11");

    List<Part> parts =
        parseMultipart(drain(reply.body()), boundaryOf(reply.headers().get("Content-Type")));
    assertThat(parts).extracting(p -> p.body().length).containsExactly(2, 2);
  }

  @Test
  void unsatisfiableRangeIsRangeInvalidWithContentRangeStar() {
    ByteArraySource source = new ByteArraySource(new byte[100]);

    Throwable thrown = catchThrowable(() -> RangeReplies.reply(HEADERS, source, "bytes=500-600"));

    assertThat(thrown).isInstanceOf(RegistryException.class);
    RegistryException e = (RegistryException) thrown;
    assertThat(e.code()).isEqualTo(ErrorCode.RANGE_INVALID);
    assertThat(e.code().httpStatus()).isEqualTo(416);
    assertThat(e.headers()).containsEntry("Content-Range", "bytes */100");
    assertThat(e.detail()).isEqualTo("bytes=500-600");
  }

  @Test
  void localFileIsServedAsAZeroCopySlice() {
    Path file = Path.of("/var/lib/transship/blob");

    Reply whole = RangeReplies.reply(HEADERS, new ByteArraySource(CONTENT, file), null);
    Reply single = RangeReplies.reply(HEADERS, new ByteArraySource(CONTENT, file), "bytes=10-19");

    assertThat(whole.status()).isEqualTo(200);
    assertThat(whole.body()).isEqualTo(new Body.FileSlice(file, 0, 1000));
    assertThat(whole.headers()).containsEntry("Accept-Ranges", "bytes");
    assertThat(single.status()).isEqualTo(206);
    assertThat(single.body()).isEqualTo(new Body.FileSlice(file, 10, 10));
    assertThat(single.headers())
        .containsEntry("Accept-Ranges", "bytes")
        .containsEntry("Content-Range", "bytes 10-19/1000");
  }

  @Test
  void theCallersHeaderMapIsNotModified() {
    Map<String, String> headers = new LinkedHashMap<>(HEADERS);

    RangeReplies.reply(headers, new ByteArraySource(CONTENT), "bytes=0-1,3-4");

    assertThat(headers).isEqualTo(HEADERS);
  }
}
