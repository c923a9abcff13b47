package io.transship.converter;

import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Opens gzip data for reading: with ISA-L's inflater ({@link NativeInflate}) when {@code
 * libisal.so.2} can be loaded (Debian package {@code libisal2}), else with {@link
 * ConcatenatedGzipInputStream} (the JDK's zlib). Both read concatenated members as one stream,
 * check every member's header, CRC32 and ISIZE, accept only the end of the input right after a
 * member, fail with the same exception types, and return the same bytes.
 *
 * <p>The native inflater is used unless the system property {@value #NATIVE_PROPERTY} or else the
 * environment variable {@value #NATIVE_ENV} is {@code false} (or {@code 0}, {@code off}, {@code
 * no}); this is read on every {@link #open}, so tests and A/B runs can switch. The system property
 * {@value NativeInflate#LIBRARY_PROPERTY} names another library file to load. Java needs {@code
 * --enable-native-access=ALL-UNNAMED} (or the jar manifest's {@code Enable-Native-Access}) to call
 * it without a warning.
 */
public final class GzipInput {

  /** System property: {@code false} forces {@link ConcatenatedGzipInputStream}. */
  public static final String NATIVE_PROPERTY = "transship.gzip.native";

  /** Environment variable, read when the property is unset: {@code false} forces zlib. */
  public static final String NATIVE_ENV = "TRANSSHIP_GZIP_NATIVE";

  static final int FALLBACK_BUFFER = 64 * 1024;

  private static final System.Logger LOG = System.getLogger(GzipInput.class.getName());
  private static final AtomicBoolean LOGGED = new AtomicBoolean();

  private GzipInput() {}

  /**
   * The decompressed bytes of {@code gzip}, which is not read before the first read. Closing the
   * result closes {@code gzip}; the result is for the calling thread only. Bad or truncated data
   * makes a read throw a {@link java.util.zip.ZipException} or an {@link java.io.EOFException}.
   */
  public static InputStream open(InputStream gzip) {
    if (nativeEnabled() && NativeInflate.isAvailable()) {
      return NativeInflate.open(gzip);
    }
    if (LOGGED.compareAndSet(false, true)) {
      LOG.log(Level.DEBUG, () -> "gzip: inflating with zlib, not ISA-L: " + fallbackReason());
    }
    return openFallback(gzip);
  }

  /** The JDK's inflater, whatever the settings. */
  static InputStream openFallback(InputStream gzip) {
    return new ConcatenatedGzipInputStream(gzip, FALLBACK_BUFFER);
  }

  /** Whether {@link #open} returns the native inflater now. */
  public static boolean usesNative() {
    return nativeEnabled() && NativeInflate.isAvailable();
  }

  /** A one-line description of what {@link #open} uses now, and why. */
  public static String implementation() {
    return usesNative()
        ? NativeInflate.describe()
        : "zlib, java.util.zip.Inflater (" + fallbackReason() + ")";
  }

  private static String fallbackReason() {
    if (!nativeEnabled()) {
      return "disabled by " + NATIVE_PROPERTY + " / " + NATIVE_ENV;
    }
    return "ISA-L " + NativeInflate.describe();
  }

  static boolean nativeEnabled() {
    String value = System.getProperty(NATIVE_PROPERTY);
    if (value == null) {
      value = System.getenv(NATIVE_ENV);
    }
    if (value == null) {
      return true;
    }
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "false", "0", "off", "no" -> false;
      default -> true;
    };
  }
}
