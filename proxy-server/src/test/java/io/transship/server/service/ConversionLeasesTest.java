package io.transship.server.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.transship.oci.Digest;
import io.transship.storage.InMemoryObjectStore;
import io.transship.storage.StorageKeys;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Leases between replicas: no conversion after another replica finished, no lease resurrected. */
class ConversionLeasesTest {
  private static final Digest SOURCE = Digest.sha256(new byte[] {42});

  @Test
  void theWinnerOfALeaseChecksAgainBeforeConverting() {
    InMemoryObjectStore store = new InMemoryObjectStore();
    ConversionLeases leases = new ConversionLeases(store);
    AtomicInteger looks = new AtomicInteger();
    AtomicInteger conversions = new AtomicInteger();
    // the first look predates another replica's record; the look after winning the lease sees it
    String result =
        leases.run(
            "zstd-l3",
            SOURCE,
            () -> looks.incrementAndGet() == 1 ? Optional.empty() : Optional.of("recorded"),
            () -> {
              conversions.incrementAndGet();
              return "converted";
            });
    assertThat(result).isEqualTo("recorded");
    assertThat(conversions).hasValue(0);
  }

  @Test
  void aSingleNodeLooksAtTheIndexBeforeConverting() {
    AtomicInteger conversions = new AtomicInteger();
    String result =
        ConversionLeases.NONE.run(
            "zstd-l3",
            SOURCE,
            () -> Optional.of("recorded"),
            () -> {
              conversions.incrementAndGet();
              return "converted";
            });
    assertThat(result).isEqualTo("recorded");
    assertThat(conversions).hasValue(0);
  }

  @Test
  void aReleasedLeaseIsNeverRenewedBackToLife() throws Exception {
    InMemoryObjectStore store = new InMemoryObjectStore();
    ConversionLeases leases = new ConversionLeases(store, Duration.ofMillis(150));
    String key = StorageKeys.conversionLease("zstd-l3", SOURCE);
    for (int round = 0; round < 5; round++) {
      leases.run(
          "zstd-l3",
          SOURCE,
          Optional::empty,
          () -> {
            try {
              Thread.sleep(120); // renewals (every 50 ms) run while converting, and at the end
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            return "converted";
          });
      Thread.sleep(120);
      assertThat(store.stat(key)).as("round %d", round).isEmpty();
    }
  }
}
