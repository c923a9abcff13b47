package io.transship.oci;

import java.util.regex.Pattern;

/**
 * The {@code <reference>} of {@code /v2/<name>/manifests/<reference>}: a tag or a digest (OCI
 * distribution spec v1.1, "Pulling manifests"). A tag matches {@code
 * [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}}.
 */
public sealed interface Reference permits Reference.Tag, Reference.ByDigest {

  Pattern TAG = Pattern.compile("[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}");

  /**
   * Parses a reference. A malformed digest is {@link ErrorCode#DIGEST_INVALID}; an invalid tag is
   * {@link ErrorCode#MANIFEST_UNKNOWN}, as the conformance suite expects.
   */
  static Reference parse(String text) {
    if (Digest.looksLikeDigest(text)) {
      return new ByDigest(Digest.parse(text));
    }
    if (!TAG.matcher(text).matches()) {
      throw new RegistryException(ErrorCode.MANIFEST_UNKNOWN, "invalid tag", text);
    }
    return new Tag(text);
  }

  /** A mutable name for a manifest. */
  record Tag(String name) implements Reference {
    @Override
    public String toString() {
      return name;
    }
  }

  /** An immutable content address. */
  record ByDigest(Digest digest) implements Reference {
    @Override
    public String toString() {
      return digest.toString();
    }
  }
}
