package io.transship.converter;

import com.github.luben.zstd.ZstdInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;

/** {@link TranscoderContract} for gzip → zstd. */
class ZstdTranscoderContractTest extends TranscoderContract {
  @Override
  LayerTranscoder transcoder(int threads) {
    return new ZstdTranscoder(new ZstdOptions(3, threads));
  }

  @Override
  byte[] uncompressed(byte[] converted) throws IOException {
    try (ZstdInputStream in = new ZstdInputStream(new ByteArrayInputStream(converted))) {
      return in.readAllBytes();
    }
  }
}
