package io.transship.converter;

/**
 * One line naming the codec implementations this process uses, for the start-up log: a container
 * image without {@code libisal2} or {@code libdeflate0} still works, only slower, so the log says
 * which ones loaded.
 */
public final class Codecs {
  private Codecs() {}

  /** E.g. {@code gunzip ISA-L igzip (libisal.so.2), eStargz deflate libdeflate, zstd zstd-jni}. */
  public static String describe() {
    return "gunzip "
        + GzipInput.implementation()
        + ", eStargz deflate "
        + DeflateBackend.preferred().id()
        + ", zstd zstd-jni";
  }
}
