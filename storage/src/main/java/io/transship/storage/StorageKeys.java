package io.transship.storage;

import io.transship.oci.Digest;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The one place that names every object key, and the one validator every {@link ObjectStore}
 * implementation applies to the keys it is given.
 *
 * <p>Layout:
 *
 * <pre>
 * blobs/&lt;alg&gt;/&lt;hex[0..2]&gt;/&lt;hex&gt;                   blob content (two-character fan-out)
 * manifests/&lt;alg&gt;/&lt;hex&gt;                          exact manifest bytes
 * manifests/&lt;alg&gt;/&lt;hex&gt;.type                     the manifest's media type, UTF-8 text
 * tags/&lt;upstream&gt;/&lt;repository&gt;/_tags/&lt;tag&gt;        tag record
 * </pre>
 *
 * The {@code _tags} segment keeps a repository's tags apart from nested repositories ({@code
 * group/app} tag {@code x} and repository {@code group/app/x} would otherwise need {@code x} to be
 * both a file and a directory); no OCI repository path component can start with {@code _}.
 *
 * <p>A valid key (see {@link #validate}) is a safe relative path: non-empty slash-separated
 * segments of printable characters without {@code \}, {@code :} or a leading {@code .} (which also
 * rules out {@code .} and {@code ..}; dot-names are reserved for implementations, such as the
 * filesystem store's {@code .tmp}). Free-form names (upstream aliases, repositories, tags) are
 * percent-encoded segment by segment so that any input yields a valid key.
 */
public final class StorageKeys {

  /** Longest key accepted; well under common path-length limits. */
  public static final int MAX_KEY_LENGTH = 1024;

  private static final String TAGS_SEGMENT = "_tags";

  private StorageKeys() {}

  /** {@code blobs/<alg>/<first two hex chars>/<hex>}. */
  public static String blob(Digest digest) {
    String hex = digest.encoded();
    return "blobs/" + digest.algorithm() + "/" + hex.substring(0, 2) + "/" + hex;
  }

  /** {@code manifests/<alg>/<hex>}: the manifest's exact bytes. */
  public static String manifest(Digest digest) {
    return "manifests/" + digest.algorithm() + "/" + digest.encoded();
  }

  /** {@code manifests/<alg>/<hex>.type}: the manifest's media type as UTF-8 text. */
  public static String manifestType(Digest digest) {
    return manifest(digest) + ".type";
  }

  /**
   * {@code conversions/layers/<settings>/<alg>/<hex>}: the descriptor of the converted form of a
   * source layer, for conversion settings {@code settings} (e.g. {@code zstd-l3}).
   */
  public static String convertedLayer(String settings, Digest source) {
    return "conversions/layers/"
        + encodeSegment(settings)
        + "/"
        + source.algorithm()
        + "/"
        + source.encoded();
  }

  /**
   * {@code conversions/manifests/<format>/<alg>/<hex>}: the digest of the converted form of a
   * source manifest.
   */
  public static String convertedManifest(String format, Digest source) {
    return "conversions/manifests/"
        + encodeSegment(format)
        + "/"
        + source.algorithm()
        + "/"
        + source.encoded();
  }

  /** {@code tags/<upstream>/<repository>/_tags/<tag>}, every part percent-encoded. */
  public static String tag(String upstream, String repository, String tag) {
    return tagPrefix(upstream, repository) + encodeSegment(tag);
  }

  /**
   * {@code tags/<upstream>/<repository>/_tags/}: the prefix to {@link ObjectStore#list} the tags of
   * one repository (and only that repository, never nested ones). Recover a tag's name from a
   * listed key with {@link #decodeSegment} of the part after this prefix.
   */
  public static String tagPrefix(String upstream, String repository) {
    return "tags/"
        + encodeSegment(upstream)
        + "/"
        + encodePath(repository)
        + "/"
        + TAGS_SEGMENT
        + "/";
  }

  /**
   * Checks that {@code key} is a safe relative path (see the class comment) and returns it.
   *
   * @throws IllegalArgumentException naming what is wrong
   */
  public static String validate(String key) {
    if (key == null || key.isEmpty()) {
      throw new IllegalArgumentException("empty object key");
    }
    if (key.length() > MAX_KEY_LENGTH) {
      throw new IllegalArgumentException("object key longer than " + MAX_KEY_LENGTH);
    }
    int segmentStart = 0;
    for (int i = 0; i <= key.length(); i++) {
      char c = i < key.length() ? key.charAt(i) : '/';
      if (c == '/') {
        if (i == segmentStart) {
          throw new IllegalArgumentException(
              "object key has an empty segment (absolute, trailing or double slash): " + key);
        }
        if (key.charAt(segmentStart) == '.') {
          throw new IllegalArgumentException("object key segment starts with '.': " + key);
        }
        segmentStart = i + 1;
      } else if (c == '\\' || c == ':' || c < 0x20 || c == 0x7f) {
        throw new IllegalArgumentException("object key has a forbidden character: " + key);
      }
    }
    return key;
  }

  /**
   * Checks a {@link ObjectStore#list} prefix: empty (everything), or a valid key optionally
   * followed by one {@code /}. Returns it.
   */
  public static String validatePrefix(String prefix) {
    if (prefix == null) {
      throw new IllegalArgumentException("null prefix");
    }
    if (!prefix.isEmpty()) {
      validate(prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix);
    }
    return prefix;
  }

  /**
   * Encodes one free-form name as a single valid key segment: {@code [A-Za-z0-9_.-]} stay as they
   * are, except a {@code .} that is leading or follows another {@code .} (so an encoded name never
   * contains {@code ..}); every other UTF-8 byte becomes {@code %XX}.
   */
  public static String encodeSegment(String name) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("empty name");
    }
    StringBuilder out = new StringBuilder(name.length() + 8);
    byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < utf8.length; i++) {
      int b = utf8[i] & 0xff;
      boolean plain =
          (b >= 'a' && b <= 'z')
              || (b >= 'A' && b <= 'Z')
              || (b >= '0' && b <= '9')
              || b == '_'
              || b == '-'
              || (b == '.' && i > 0 && utf8[i - 1] != '.');
      if (plain) {
        out.append((char) b);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit(b >> 4, 16)));
        out.append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
      }
    }
    return out.toString();
  }

  /** Inverse of {@link #encodeSegment}. */
  public static String decodeSegment(String segment) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(segment.length());
    for (int i = 0; i < segment.length(); i++) {
      char c = segment.charAt(i);
      if (c == '%') {
        int hi = i + 2 < segment.length() ? Character.digit(segment.charAt(i + 1), 16) : -1;
        int lo = hi >= 0 ? Character.digit(segment.charAt(i + 2), 16) : -1;
        if (lo < 0) {
          throw new IllegalArgumentException("bad escape in " + segment);
        }
        out.write(hi << 4 | lo);
        i += 2;
      } else if (c < 0x80) {
        out.write(c);
      } else {
        throw new IllegalArgumentException("not an encoded segment: " + segment);
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** Encodes a slash-separated name (a repository) segment by segment. */
  private static String encodePath(String path) {
    if (path == null || path.isEmpty()) {
      throw new IllegalArgumentException("empty repository name");
    }
    String[] parts = path.split("/", -1);
    StringBuilder out = new StringBuilder(path.length() + 8);
    for (String part : parts) {
      if (!out.isEmpty()) {
        out.append('/');
      }
      out.append(encodeSegment(part));
    }
    return out.toString();
  }
}
