package io.transship.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Helm chart and the container image, through {@code helm/test/run.sh}: helm lint and template
 * for every value set in {@code helm/transship/ci/}, each rendered object checked against the
 * Kubernetes schemas; the image built with buildah from the Dockerfile; the rendered pod run under
 * podman as a kubelet would (read-only root, uid 65532, ConfigMap and Secret files, probes as
 * rendered); skopeo pulls through it; SIGTERM with a download in flight. The script prints why it
 * skips the image part when buildah, podman or debootstrap are missing.
 */
@Tag("e2e")
@ExtendWith(DumpLogsOnFailure.class)
class ChartIT {
  @Test
  void chartRendersValidObjectsAndItsPodServesPullsFromTheBuiltImage() {
    Tools.require("node", "npm", "python3", "unzip");
    Path script = Path.of(System.getProperty("user.dir")).getParent().resolve("helm/test/run.sh");
    Cmd.Result r = Cmd.of("bash", script.toString()).timeout(Duration.ofMinutes(20)).run();
    System.out.println(r.stdout());
    assertThat(r.exitCode()).as("helm/test/run.sh\n%s\n%s", r.stdout(), r.stderr()).isZero();
    assertThat(r.stdout()).contains(" 0 failed");
  }
}
