package io.transship.server.reply;

import io.transship.oci.ByteRange;
import io.transship.oci.ErrorCode;
import io.transship.oci.RangeRequest;
import io.transship.oci.RegistryException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Builds 200, 206 (single range), 206 {@code multipart/byteranges} (several ranges) and 416 replies
 * for a {@link RangeSource}, following RFC 9110 sections 14.2 to 14.6 and 15.5.17.
 */
public final class RangeReplies {
  private RangeReplies() {}

  /**
   * @param headers headers every variant carries ({@code Docker-Content-Digest}, ...)
   * @param rangeHeader the request's {@code Range} header, or null
   */
  public static Reply reply(Map<String, String> headers, RangeSource source, String rangeHeader) {
    boolean handedOver = false;
    try {
      Reply reply = build(headers, source, rangeHeader);
      handedOver = reply.body() instanceof Body.Stream;
      return reply;
    } finally {
      if (!handedOver) {
        closeQuietly(source); // a 416, an empty body or a file slice never reads the source
      }
    }
  }

  private static void closeQuietly(RangeSource source) {
    try {
      source.close();
    } catch (Exception ignored) {
      // nothing more to release
    }
  }

  private static Reply build(Map<String, String> headers, RangeSource source, String rangeHeader) {
    long size = source.size();
    Map<String, String> base = new LinkedHashMap<>(headers);
    base.put("Accept-Ranges", "bytes");
    RangeRequest request = RangeRequest.parse(rangeHeader, size);
    return switch (request) {
      case RangeRequest.Whole whole -> {
        base.putIfAbsent("Content-Type", "application/octet-stream");
        yield new Reply(200, base, body(source, size == 0 ? null : ByteRange.whole(size), size));
      }
      case RangeRequest.Unsatisfiable unsatisfiable ->
          throw new RegistryException(
              ErrorCode.RANGE_INVALID,
              "requested range not satisfiable",
              rangeHeader,
              Map.of("Content-Range", "bytes */" + size),
              null);
      case RangeRequest.Partial partial when partial.ranges().size() == 1 -> {
        ByteRange range = partial.ranges().get(0);
        base.putIfAbsent("Content-Type", "application/octet-stream");
        base.put("Content-Range", range.contentRange(size));
        yield new Reply(206, base, body(source, range, range.length()));
      }
      case RangeRequest.Partial partial -> multipart(base, source, partial.ranges());
    };
  }

  private static Body body(RangeSource source, ByteRange range, long length) {
    if (range == null) {
      return new Body.Empty();
    }
    Optional<Path> file = source.localFile();
    if (file.isPresent()) {
      return new Body.FileSlice(file.get(), range.first(), range.length());
    }
    return new Body.Stream(
        length,
        sink -> {
          try (source) {
            source.copy(range, sink);
          }
        });
  }

  private static Reply multipart(
      Map<String, String> base, RangeSource source, List<ByteRange> ranges) {
    String partType = base.getOrDefault("Content-Type", "application/octet-stream");
    String boundary =
        "transship-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
    long size = source.size();
    List<byte[]> preambles = new ArrayList<>();
    long total = 0;
    for (int i = 0; i < ranges.size(); i++) {
      String preamble =
          (i == 0 ? "" : "\r\n")
              + "--"
              + boundary
              + "\r\nContent-Type: "
              + partType
              + "\r\nContent-Range: "
              + ranges.get(i).contentRange(size)
              + "\r\n\r\n";
      byte[] bytes = preamble.getBytes(StandardCharsets.US_ASCII);
      preambles.add(bytes);
      total += bytes.length + ranges.get(i).length();
    }
    byte[] epilogue = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII);
    total += epilogue.length;
    base.put("Content-Type", "multipart/byteranges; boundary=" + boundary);
    Body body =
        new Body.Stream(
            total,
            sink -> {
              try (source) {
                for (int i = 0; i < ranges.size(); i++) {
                  byte[] preamble = preambles.get(i);
                  sink.write(preamble, 0, preamble.length);
                  source.copy(ranges.get(i), sink);
                }
                sink.write(epilogue, 0, epilogue.length);
              }
            });
    return new Reply(206, base, body);
  }
}
