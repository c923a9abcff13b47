package io.transship.server.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.transship.server.testing.TestPki;
import io.transship.server.testing.TestPki.KeyKind;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PemKeyMaterialTest {
  @TempDir Path dir;
  final TestPki pki = new TestPki();

  @Test
  void readsTheFullChainLeafFirst() throws Exception {
    pki.issue("leaf", KeyKind.RSA_PKCS8, dir.resolve("c"), dir.resolve("k"));
    PemKeyMaterial material = PemKeyMaterial.load(dir.resolve("c"), dir.resolve("k"));
    assertThat(material.chain()).hasSize(2);
    assertThat(material.leaf().getSubjectX500Principal().getName()).isEqualTo("CN=leaf");
  }

  @Test
  void aKeyOfAnotherCertificateIsRefused() throws Exception {
    // what a renewal caught between writing the certificate and the key looks like
    pki.issue("old", KeyKind.EC_SEC1, dir.resolve("c"), dir.resolve("k"));
    pki.issue("new", KeyKind.EC_SEC1, dir.resolve("c2"), dir.resolve("k2"));
    assertThatThrownBy(() -> PemKeyMaterial.load(dir.resolve("c2"), dir.resolve("k")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("does not belong to the first certificate");
  }

  @Test
  void filesWithoutPemSayWhatIsMissing() throws Exception {
    Files.writeString(dir.resolve("c"), "nothing here");
    Files.writeString(dir.resolve("k"), "nothing here");
    assertThatThrownBy(() -> PemKeyMaterial.load(dir.resolve("c"), dir.resolve("k")))
        .hasMessageContaining(dir.resolve("c").toString());
    pki.issue("leaf", KeyKind.RSA_PKCS1, dir.resolve("c"), dir.resolve("k2"));
    assertThatThrownBy(() -> PemKeyMaterial.load(dir.resolve("c"), dir.resolve("k")))
        .hasMessageContaining("holds no unencrypted PEM private key");
  }
}
