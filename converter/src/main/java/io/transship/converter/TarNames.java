package io.transship.converter;

import java.util.ArrayDeque;
import java.util.Deque;

/** Tar entry names as the estargz library compares them. */
final class TarNames {

  private TarNames() {}

  /**
   * The name estargz uses to look an entry up: Go's {@code path.Clean("/" + name)} without the
   * leading slash (stargz-snapshotter {@code estargz.go}, {@code cleanEntryName}). So {@code
   * ./usr//bin/} and {@code usr/bin} are the same entry, {@code ..} cannot climb above the root,
   * and the root itself ({@code ./}, {@code /}) is the empty string.
   */
  static String clean(String name) {
    Deque<String> parts = new ArrayDeque<>();
    int start = 0;
    int length = name.length();
    while (start <= length) {
      int slash = name.indexOf('/', start);
      int end = slash < 0 ? length : slash;
      String part = name.substring(start, end);
      if (part.equals("..")) {
        parts.pollLast();
      } else if (!part.isEmpty() && !part.equals(".")) {
        parts.addLast(part);
      }
      start = end + 1;
    }
    return String.join("/", parts);
  }

  /** The cleaned name of {@code cleanName}'s parent directory; the root's parent is itself. */
  static String parent(String cleanName) {
    int slash = cleanName.lastIndexOf('/');
    return slash < 0 ? "" : cleanName.substring(0, slash);
  }
}
