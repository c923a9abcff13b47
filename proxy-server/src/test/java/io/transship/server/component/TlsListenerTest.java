package io.transship.server.component;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.transship.oci.Digest;
import io.transship.oci.MediaTypes;
import io.transship.server.Transship;
import io.transship.server.config.EdgeConfig;
import io.transship.server.config.HostPort;
import io.transship.server.testing.FakeUpstream;
import io.transship.server.testing.TestPki;
import io.transship.server.testing.TestPki.KeyKind;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The HTTPS listener: HTTP/2 and HTTP/1.1, key formats, reload on renewal, wrong-scheme answers.
 */
class TlsListenerTest {
  @TempDir Path dir;
  final TestPki pki = new TestPki();
  FakeUpstream upstream;
  Transship proxy;
  Path cert;
  Path key;
  Digest manifest;

  @BeforeEach
  void upstream() {
    upstream = FakeUpstream.start();
    manifest =
        upstream.putManifest("team/app", "v1", ManifestProxyTest.MANIFEST, MediaTypes.OCI_MANIFEST);
    cert = dir.resolve("tls.crt");
    key = dir.resolve("tls.key");
  }

  @AfterEach
  void stop() throws IOException {
    if (proxy != null) {
      proxy.close();
    }
    upstream.close();
  }

  private void start(KeyKind kind) throws Exception {
    pki.issue("first", kind, cert, key);
    EdgeConfig edge =
        new EdgeConfig(
            new EdgeConfig.Tls(new HostPort("127.0.0.1", 0), cert, key, Duration.ofMillis(100)),
            EdgeConfig.Auth.NONE,
            null,
            List.of());
    proxy =
        Transship.start(
            EdgeHarness.withEdge(
                ProxyHarness.config(
                    upstream, dir.resolve("data"), Duration.ofMinutes(1), null, null),
                edge));
  }

  private HttpClient client(HttpClient.Version version) {
    return HttpClient.newBuilder().sslContext(pki.clientContext()).version(version).build();
  }

  private HttpResponse<byte[]> get(HttpClient client, String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create("https://localhost:" + proxy.tlsPort() + path))
            .timeout(Duration.ofSeconds(30))
            .build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  private static String commonName(HttpResponse<?> response) throws Exception {
    X509Certificate leaf =
        (X509Certificate) response.sslSession().orElseThrow().getPeerCertificates()[0];
    return leaf.getSubjectX500Principal().getName();
  }

  @ParameterizedTest
  @EnumSource(KeyKind.class)
  void servesHttp2AndHttp11WithRsaAndEcKeysInEveryPemEncoding(KeyKind kind) throws Exception {
    start(kind);
    HttpResponse<byte[]> h2 =
        get(client(HttpClient.Version.HTTP_2), "/v2/fake/team/app/manifests/v1");
    assertThat(h2.statusCode()).isEqualTo(200);
    assertThat(h2.version()).isEqualTo(HttpClient.Version.HTTP_2);
    assertThat(h2.body()).isEqualTo(ManifestProxyTest.MANIFEST);
    assertThat(h2.headers().firstValue("Docker-Content-Digest")).hasValue(manifest.toString());
    HttpResponse<byte[]> h1 =
        get(client(HttpClient.Version.HTTP_1_1), "/v2/fake/team/app/manifests/v1");
    assertThat(h1.statusCode()).isEqualTo(200);
    assertThat(h1.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
    assertThat(h1.sslSession().orElseThrow().getProtocol()).isIn("TLSv1.3", "TLSv1.2");
  }

  @Test
  void blobsLargerThanTheStreamWindowArriveWholeOverHttp2OnMissAndHit() throws Exception {
    start(KeyKind.EC_PKCS8);
    byte[] blob = new byte[3 * 1024 * 1024 + 17];
    new Random(9).nextBytes(blob);
    Digest digest = upstream.putBlob(blob);
    HttpClient h2 = client(HttpClient.Version.HTTP_2);
    for (int i = 0; i < 2; i++) { // the miss streams from the download, the hit from the file
      HttpResponse<byte[]> response = get(h2, "/v2/fake/team/app/blobs/" + digest);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_2);
      assertThat(Digest.sha256(response.body())).isEqualTo(digest);
    }
    assertThat(upstream.count("GET", "/blobs/")).isEqualTo(1);
  }

  @Test
  void aRenewedCertificateServesNewConnectionsWhileOpenOnesKeepTheirs() throws Exception {
    start(KeyKind.RSA_PKCS1);
    HttpClient open = client(HttpClient.Version.HTTP_2);
    assertThat(commonName(get(open, "/v2/"))).isEqualTo("CN=first");

    pki.issue("second", KeyKind.EC_SEC1, cert, key);
    String seen = "CN=first";
    for (int i = 0; i < 300 && seen.equals("CN=first"); i++) {
      Thread.sleep(50);
      seen = commonName(get(client(HttpClient.Version.HTTP_1_1), "/v2/"));
    }
    assertThat(seen).isEqualTo("CN=second");
    HttpResponse<byte[]> reused = get(open, "/v2/fake/team/app/manifests/v1");
    assertThat(reused.statusCode()).isEqualTo(200);
    assertThat(commonName(reused)).isEqualTo("CN=first");
  }

  @Test
  void plainHttpOnTheHttpsPortIsToldToUseHttps() throws Exception {
    start(KeyKind.EC_PKCS8);
    String answer = raw(proxy.tlsPort(), "GET /v2/ HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assertThat(answer).startsWith("HTTP/1.1 400").contains("use https://");
  }

  @Test
  void aTlsHandshakeOnThePlainPortIsToldToUseHttp() throws Exception {
    start(KeyKind.EC_PKCS8);
    SSLContext context = pki.clientContext();
    try (SSLSocket socket =
        (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", proxy.port())) {
      socket.setSoTimeout(10_000);
      assertThatThrownBy(socket::startHandshake).isInstanceOf(IOException.class);
    }
    // what a Go client (skopeo, containerd) shows: the HTTP answer to its ClientHello
    byte[] hello = {22, 3, 1, 0, 5, 1, 0, 0, 1, 0};
    String answer = raw(proxy.port(), new String(hello, StandardCharsets.ISO_8859_1));
    assertThat(answer).startsWith("HTTP/1.1 400").contains("use http://");
  }

  @Test
  void tlsBelow12IsRefused() throws Exception {
    start(KeyKind.EC_PKCS8);
    try (SSLSocket socket =
        (SSLSocket)
            pki.clientContext().getSocketFactory().createSocket("127.0.0.1", proxy.tlsPort())) {
      socket.setSoTimeout(10_000);
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setProtocols(new String[] {"TLSv1.1"});
      socket.setSSLParameters(parameters);
      assertThatThrownBy(socket::startHandshake).isInstanceOf(SSLHandshakeException.class);
    } catch (IllegalArgumentException jdkRefusesTls11Itself) {
      // the JDK may not even offer TLS 1.1; nothing to test then
    }
  }

  private static String raw(int port, String request) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(request.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = socket.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
