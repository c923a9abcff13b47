package io.transship.converter;

import java.util.Locale;

/**
 * Which DEFLATE implementation compresses eStargz members. Different implementations (and versions)
 * make different, equally valid bytes, so the backend is part of {@link
 * EstargzOptions#settingsKey()}.
 *
 * <p>{@link #preferred()} is libdeflate when the library loads (Debian package {@code
 * libdeflate0}), else the JDK's zlib. The system property {@value #PROPERTY} ({@code zlib} or
 * {@code libdeflate}) overrides the choice; asking for libdeflate where it is missing falls back to
 * zlib.
 */
enum DeflateBackend {
  /** {@link java.util.zip.Deflater}: the zlib built into the JDK. */
  ZLIB("zlib"),
  /** libdeflate through the foreign function API. */
  LIBDEFLATE("libdeflate");

  static final String PROPERTY = "transship.estargz.deflate";

  private static final DeflateBackend PREFERRED = choose();

  private final String id;

  DeflateBackend(String id) {
    this.id = id;
  }

  /** The name used in settings keys. */
  String id() {
    return id;
  }

  /** Whether this backend works on this machine. */
  boolean available() {
    return this == ZLIB || LibdeflateEncoder.available();
  }

  /** A new encoder at {@code level}; close it to free native memory. */
  GzipMemberEncoder newEncoder(int level) {
    return switch (this) {
      case ZLIB -> new JdkDeflateEncoder(level);
      case LIBDEFLATE -> new LibdeflateEncoder(level);
    };
  }

  /** The backend this JVM uses by default (decided once). */
  static DeflateBackend preferred() {
    return PREFERRED;
  }

  private static DeflateBackend choose() {
    String wanted = System.getProperty(PROPERTY, "").trim().toLowerCase(Locale.ROOT);
    if (wanted.equals("zlib")) {
      return ZLIB;
    }
    return LIBDEFLATE.available() ? LIBDEFLATE : ZLIB;
  }
}
