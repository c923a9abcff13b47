package io.transship.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ManifestDocumentTest {

  private static final String CONFIG =
      "{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":2,"
          + "\"digest\":\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\"}";

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static void assertManifestInvalid(byte[] bytes, String declaredType) {
    assertThatThrownBy(() -> ManifestDocument.of(bytes, declaredType))
        .isInstanceOfSatisfying(
            RegistryException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.MANIFEST_INVALID));
  }

  @Test
  void mediaTypeComesFromTheMediaTypeField() {
    byte[] bytes =
        utf8(
            "{\"schemaVersion\":2,\"mediaType\":\""
                + MediaTypes.DOCKER_MANIFEST
                + "\",\"config\":"
                + CONFIG
                + ",\"layers\":[]}");

    ManifestDocument document = ManifestDocument.of(bytes, MediaTypes.OCI_MANIFEST);

    assertThat(document.mediaType()).isEqualTo(MediaTypes.DOCKER_MANIFEST);
  }

  @Test
  void mediaTypeComesFromTheDeclaredContentTypeWhenTheFieldIsAbsent() {
    byte[] bytes = utf8("{\"schemaVersion\":2,\"manifests\":[]}");

    ManifestDocument document = ManifestDocument.of(bytes, MediaTypes.DOCKER_MANIFEST_LIST);

    assertThat(document.mediaType()).isEqualTo(MediaTypes.DOCKER_MANIFEST_LIST);
  }

  @Test
  void parametersOfTheDeclaredContentTypeAreStripped() {
    byte[] bytes = utf8("{\"schemaVersion\":2,\"config\":" + CONFIG + ",\"layers\":[]}");

    ManifestDocument document =
        ManifestDocument.of(bytes, MediaTypes.DOCKER_MANIFEST + " ; charset=utf-8");

    assertThat(document.mediaType()).isEqualTo(MediaTypes.DOCKER_MANIFEST);
  }

  @Test
  void emptyMediaTypeFieldFallsBackToTheDeclaredType() {
    byte[] bytes = utf8("{\"schemaVersion\":2,\"mediaType\":\"\",\"manifests\":[]}");

    assertThat(ManifestDocument.of(bytes, MediaTypes.DOCKER_MANIFEST_LIST).mediaType())
        .isEqualTo(MediaTypes.DOCKER_MANIFEST_LIST);
  }

  @Test
  void umociManifestWithConfigAndNoMediaTypeIsAnOciManifest() {
    byte[] bytes = utf8("{\"schemaVersion\":2,\"config\":" + CONFIG + ",\"layers\":[]}");

    assertThat(ManifestDocument.of(bytes, null).mediaType()).isEqualTo(MediaTypes.OCI_MANIFEST);
    assertThat(ManifestDocument.of(bytes, "application/octet-stream").mediaType())
        .isEqualTo(MediaTypes.OCI_MANIFEST);
  }

  @Test
  void umociIndexWithManifestsAndNoMediaTypeIsAnOciIndex() {
    byte[] bytes = utf8("{\"schemaVersion\":2,\"manifests\":[]}");

    assertThat(ManifestDocument.of(bytes, null).mediaType()).isEqualTo(MediaTypes.OCI_INDEX);
    assertThat(ManifestDocument.of(bytes, "application/json").mediaType())
        .isEqualTo(MediaTypes.OCI_INDEX);
  }

  @Test
  void signedSchema1ManifestIsRecognised() {
    byte[] bytes =
        utf8(
            "{\"schemaVersion\":1,\"name\":\"library/alpine\",\"tag\":\"3\",\"fsLayers\":[],"
                + "\"signatures\":[{\"header\":{},\"signature\":\"x\",\"protected\":\"y\"}]}");

    assertThat(ManifestDocument.of(bytes, "application/json").mediaType())
        .isEqualTo(MediaTypes.DOCKER_SCHEMA1_SIGNED);
  }

  @Test
  void unsignedSchema1ManifestIsRecognised() {
    byte[] bytes =
        utf8("{\"schemaVersion\":1,\"name\":\"library/alpine\",\"tag\":\"3\",\"fsLayers\":[]}");

    assertThat(ManifestDocument.of(bytes, null).mediaType()).isEqualTo(MediaTypes.DOCKER_SCHEMA1);
  }

  @Test
  void digestIsOfTheExactBytesWithWhitespacePreserved() {
    String compact = "{\"schemaVersion\":2,\"manifests\":[]}";
    String pretty = "{\n  \"schemaVersion\": 2,\n  \"manifests\": [ ]\n}\n";

    ManifestDocument a = ManifestDocument.of(utf8(compact), null);
    ManifestDocument b = ManifestDocument.of(utf8(pretty), null);

    assertThat(a.digest()).isEqualTo(Digest.sha256(utf8(compact)));
    assertThat(b.digest()).isEqualTo(Digest.sha256(utf8(pretty)));
    assertThat(a.digest()).isNotEqualTo(b.digest());
    assertThat(b.bytes()).isEqualTo(utf8(pretty));
    assertThat(b.size()).isEqualTo(utf8(pretty).length);
  }

  @Test
  void bytesAreDefensivelyCopied() {
    byte[] input = utf8("{\"schemaVersion\":2,\"manifests\":[]}");
    ManifestDocument document = ManifestDocument.of(input, null);

    Arrays.fill(input, (byte) 'x');
    document.bytes()[0] = 'y';

    assertThat(document.bytes()).isEqualTo(utf8("{\"schemaVersion\":2,\"manifests\":[]}"));
    assertThat(document.digest().matches(document.digest().newHasher().digest(document.bytes())))
        .isTrue();
  }

  @Test
  void manifestOfExactly4MiBIsAccepted() {
    String head = "{\"schemaVersion\":2,\"manifests\":[],\"pad\":\"";
    String tail = "\"}";
    int padding = ManifestDocument.MAX_BYTES - head.length() - tail.length();
    byte[] bytes = utf8(head + "a".repeat(padding) + tail);

    assertThat(bytes).hasSize(4 * 1024 * 1024);
    assertThat(ManifestDocument.of(bytes, null).size()).isEqualTo(ManifestDocument.MAX_BYTES);
  }

  @Test
  void manifestOverFourMiBIsManifestInvalid() {
    String head = "{\"schemaVersion\":2,\"manifests\":[],\"pad\":\"";
    String tail = "\"}";
    int padding = ManifestDocument.MAX_BYTES + 1 - head.length() - tail.length();

    assertManifestInvalid(utf8(head + "a".repeat(padding) + tail), MediaTypes.OCI_INDEX);
  }

  @ParameterizedTest
  @ValueSource(strings = {"not json", "", "[1,2,3]", "\"a string\"", "42", "null", "{\"a\":"})
  void contentThatIsNotAJsonObjectIsManifestInvalid(String text) {
    assertManifestInvalid(utf8(text), MediaTypes.OCI_MANIFEST);
  }

  @Test
  void jsonObjectFollowedByTrailingGarbageIsManifestInvalid() {
    byte[] bytes = utf8("{\"schemaVersion\":2,\"manifests\":[]} this is not JSON");

    // Regression (fixed): ManifestDocument.mediaTypeOf parses with ObjectMapper.readTree, which by
    // default stops
    // after the first JSON value (DeserializationFeature.FAIL_ON_TRAILING_TOKENS is off), so a
    // document that is not valid JSON is accepted, cached and served; clients then fail to parse.
    assertManifestInvalid(bytes, MediaTypes.OCI_INDEX);
  }

  @Test
  void jsonReturnsTheParsedTree() {
    ManifestDocument document =
        ManifestDocument.of(utf8("{\"schemaVersion\":2,\"manifests\":[]}"), null);

    assertThat(document.json().path("schemaVersion").asInt()).isEqualTo(2);
    assertThat(document.json().path("manifests").isArray()).isTrue();
  }

  @Test
  void documentsWithTheSameBytesAndTypeAreEqual() {
    byte[] bytes = utf8("{\"schemaVersion\":2,\"manifests\":[]}");

    assertThat(ManifestDocument.of(bytes, null))
        .isEqualTo(ManifestDocument.of(bytes.clone(), null));
    assertThat(ManifestDocument.of(bytes, null))
        .isNotEqualTo(ManifestDocument.of(bytes, MediaTypes.DOCKER_MANIFEST_LIST));
  }
}
