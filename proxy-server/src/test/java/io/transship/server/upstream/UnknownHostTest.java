package io.transship.server.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.transship.oci.RegistryException;
import io.transship.server.service.UpstreamErrors;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A DNS miss is reported as an unknown host, not as a bare ConnectException. */
class UnknownHostTest {
  @Test
  void theJdkClientsDnsFailureIsRecognisedAndNamed() throws Exception {
    IOException failure;
    try {
      HttpClient.newBuilder()
          .connectTimeout(Duration.ofSeconds(5))
          .build()
          .send(
              HttpRequest.newBuilder(URI.create("http://no-such-registry.invalid/v2/")).build(),
              HttpResponse.BodyHandlers.discarding());
      throw new AssertionError("resolved a .invalid name");
    } catch (IOException e) {
      failure = e;
    }

    assertThat(RegistryClient.isUnknownHost(failure)).as(failure.toString()).isTrue();
    assertThat(RegistryClient.describe(failure)).contains("unknown host");
    RegistryException mapped = UpstreamErrors.fromIo(failure, "lab");
    assertThat(mapped.getMessage()).contains("upstream lab").contains("unknown host");
  }

  @Test
  void aRefusedConnectionIsNotAnUnknownHost() throws Exception {
    IOException failure;
    try (var socket = new java.net.ServerSocket(0)) {
      int port = socket.getLocalPort();
      socket.close();
      HttpClient.newHttpClient()
          .send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/")).build(),
              HttpResponse.BodyHandlers.discarding());
      throw new AssertionError("connected to a closed port");
    } catch (IOException e) {
      failure = e;
    }

    assertThat(RegistryClient.isUnknownHost(failure)).isFalse();
  }
}
