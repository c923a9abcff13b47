package io.transship.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import org.junit.jupiter.api.Test;

class SmallObjectsTest {

  private final InMemoryObjectStore store = new InMemoryObjectStore();
  private final SmallObjects small = new SmallObjects(store, 16);

  @Test
  void bytesRoundTrip() throws IOException {
    small.putBytes("m/1", new byte[] {1, 2, 3});
    assertThat(small.getBytes("m/1"))
        .hasValueSatisfying(b -> assertThat(b).containsExactly(1, 2, 3));
    small.putBytes("m/1", new byte[] {4});
    assertThat(small.getBytes("m/1")).hasValueSatisfying(b -> assertThat(b).containsExactly(4));
  }

  @Test
  void textRoundTripsAsUtf8() throws IOException {
    small.putText("m/1.type", "application/vnd.oci.image.index.v1+json".substring(0, 12));
    assertThat(small.getText("m/1.type")).contains("application/");
    small.putText("t", "naïve");
    assertThat(store.stat("t").orElseThrow().size()).isEqualTo(6);
    assertThat(small.getText("t")).contains("naïve");
  }

  @Test
  void missingIsEmpty() throws IOException {
    assertThat(small.getBytes("none")).isEmpty();
    assertThat(small.getText("none")).isEmpty();
  }

  @Test
  void objectsOverTheBoundAreRefused() throws IOException {
    small.putBytes("exact", new byte[16]);
    assertThat(small.getBytes("exact")).hasValueSatisfying(b -> assertThat(b).hasSize(16));
    small.putBytes("big", new byte[17]);
    assertThatThrownBy(() -> small.getBytes("big")).isInstanceOf(IOException.class);
  }
}
