package io.transship.converter;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.io.TempDir;

/** {@link TranscoderContract} for gzip → eStargz (a multi-member gzip whose tar has a TOC). */
class EstargzTranscoderContractTest extends TranscoderContract {
  @TempDir static Path spool;

  @Override
  LayerTranscoder transcoder(int threads) {
    return new EstargzTranscoder(new EstargzOptions(6, 256 * 1024, List.of(), threads), spool);
  }

  @Override
  byte[] uncompressed(byte[] converted) throws IOException {
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(converted))) {
      return in.readAllBytes(); // the JDK reads concatenated members as one stream
    }
  }
}
