package io.transship.oci;

import java.util.ArrayList;
import java.util.List;

/**
 * What a {@code Range} header asks of a representation of known length (RFC 9110 section 14.2): the
 * whole of it, some ranges, or nothing it has.
 */
public sealed interface RangeRequest {

  /** More ranges than this in one request are refused as unsatisfiable rather than served. */
  int MAX_RANGES = 256;

  /** No usable Range header: send the whole representation with 200. */
  record Whole() implements RangeRequest {}

  /** One or more satisfiable ranges, in request order: 206. */
  record Partial(List<ByteRange> ranges) implements RangeRequest {
    public Partial {
      ranges = List.copyOf(ranges);
    }
  }

  /** A valid header none of whose ranges overlaps the representation: 416. */
  record Unsatisfiable() implements RangeRequest {}

  /**
   * Interprets {@code header} against a representation of {@code size} bytes. A header that is not
   * a syntactically valid {@code bytes} range set is ignored, as RFC 9110 section 14.2 allows.
   * Unsatisfiable members of a set with at least one satisfiable member are dropped.
   */
  static RangeRequest parse(String header, long size) {
    if (header == null || size == 0) {
      return new Whole(); // RFC 9110 14.2: a server may ignore Range; nothing to cut from nothing
    }
    String trimmed = header.trim();
    if (!trimmed.regionMatches(true, 0, "bytes=", 0, 6)) {
      return new Whole();
    }
    String[] specs = trimmed.substring(6).split(",", -1);
    if (specs.length > MAX_RANGES) {
      return new Unsatisfiable();
    }
    List<ByteRange> ranges = new ArrayList<>();
    for (String raw : specs) {
      String spec = raw.trim();
      int dash = spec.indexOf('-');
      if (dash < 0) {
        return new Whole();
      }
      String firstText = spec.substring(0, dash).trim();
      String lastText = spec.substring(dash + 1).trim();
      if (firstText.isEmpty()) {
        Long suffix = parseNonNegative(lastText);
        if (suffix == null) {
          return new Whole();
        }
        if (suffix > 0 && size > 0) {
          ranges.add(new ByteRange(Math.max(0, size - suffix), size - 1));
        }
        continue;
      }
      Long first = parseNonNegative(firstText);
      Long last = lastText.isEmpty() ? Long.valueOf(Long.MAX_VALUE) : parseNonNegative(lastText);
      if (first == null || last == null || last < first) {
        return new Whole();
      }
      if (first < size) {
        ranges.add(new ByteRange(first, Math.min(last, size - 1)));
      }
    }
    if (ranges.isEmpty()) {
      return new Unsatisfiable();
    }
    return bounded(ranges, size);
  }

  /**
   * Keeps what a client can make us send within the representation's size: ranges that overlap are
   * coalesced (RFC 9110 section 14.2 lets a server do so, against "many small or overlapping
   * ranges" used for denial of service), so {@code bytes=0-,0-,...} can't announce a body 256 times
   * the blob. A set that covers the whole representation is sent as it: a 200. Disjoint ranges keep
   * the client's order.
   */
  private static RangeRequest bounded(List<ByteRange> ranges, long size) {
    long total = 0;
    for (ByteRange range : ranges) {
      total += range.length();
    }
    List<ByteRange> sorted = new ArrayList<>(ranges);
    sorted.sort(java.util.Comparator.comparingLong(ByteRange::first));
    boolean overlapping = false;
    for (int i = 1; i < sorted.size(); i++) {
      if (sorted.get(i).first() <= sorted.get(i - 1).last()) {
        overlapping = true;
        break;
      }
    }
    if (!overlapping && total <= size) {
      return new Partial(ranges);
    }
    List<ByteRange> merged = new ArrayList<>();
    for (ByteRange range : sorted) {
      ByteRange last = merged.isEmpty() ? null : merged.get(merged.size() - 1);
      if (last != null && range.first() <= last.last()) {
        merged.set(
            merged.size() - 1, new ByteRange(last.first(), Math.max(last.last(), range.last())));
      } else {
        merged.add(range);
      }
    }
    if (merged.size() == 1 && merged.get(0).first() == 0 && merged.get(0).last() == size - 1) {
      return new Whole();
    }
    return new Partial(merged);
  }

  private static Long parseNonNegative(String text) {
    if (text.isEmpty() || text.length() > 18) {
      return null;
    }
    for (int i = 0; i < text.length(); i++) {
      if (!Character.isDigit(text.charAt(i))) {
        return null;
      }
    }
    return Long.parseLong(text);
  }
}
