package io.transship.oci;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * A content address {@code algorithm:encoded}, validated as the OCI image spec's descriptor section
 * "Digests" requires: {@code sha256} with 64 and {@code sha512} with 128 lowercase hex characters.
 */
public record Digest(String algorithm, String encoded) implements Comparable<Digest> {

  private static final Pattern GRAMMAR =
      Pattern.compile("[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+");
  private static final Pattern HEX = Pattern.compile("[a-f0-9]+");

  public Digest {
    if (!"sha256".equals(algorithm) && !"sha512".equals(algorithm)) {
      throw new IllegalArgumentException("unsupported digest algorithm: " + algorithm);
    }
    int expected = "sha256".equals(algorithm) ? 64 : 128;
    if (encoded.length() != expected || !HEX.matcher(encoded).matches()) {
      throw new IllegalArgumentException(
          "a " + algorithm + " digest has " + expected + " lowercase hex characters");
    }
  }

  /**
   * Parses {@code text} or throws {@link RegistryException} with {@link ErrorCode#DIGEST_INVALID}.
   */
  public static Digest parse(String text) {
    if (text == null || text.length() > 256 || !GRAMMAR.matcher(text).matches()) {
      throw new RegistryException(ErrorCode.DIGEST_INVALID, "malformed digest", text);
    }
    int colon = text.indexOf(':');
    try {
      return new Digest(text.substring(0, colon), text.substring(colon + 1));
    } catch (IllegalArgumentException e) {
      throw new RegistryException(ErrorCode.DIGEST_INVALID, e.getMessage(), text);
    }
  }

  /** True when {@code text} looks like a digest reference rather than a tag. */
  public static boolean looksLikeDigest(String text) {
    return text.indexOf(':') > 0;
  }

  public static Digest sha256(byte[] content) {
    return new Digest("sha256", HexFormat.of().formatHex(newSha256().digest(content)));
  }

  public static Digest ofSha256(byte[] hash) {
    return new Digest("sha256", HexFormat.of().formatHex(hash));
  }

  /** A fresh hasher for this digest's algorithm. */
  public MessageDigest newHasher() {
    try {
      return MessageDigest.getInstance("sha256".equals(algorithm) ? "SHA-256" : "SHA-512");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Whether {@code hash}, the output of {@link #newHasher()}, equals this digest. */
  public boolean matches(byte[] hash) {
    return encoded.equals(HexFormat.of().formatHex(hash));
  }

  public static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public int compareTo(Digest other) {
    return toString().compareTo(other.toString());
  }

  @Override
  public String toString() {
    return algorithm + ":" + encoded;
  }
}
