package io.transship.server.service;

import io.transship.oci.MediaTypes;
import io.transship.server.config.Formats;
import io.transship.server.routing.RegistryRequest.ClientInfo;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Decides whether a client may be given a converted image (protocol facts: converted manifests are
 * OCI, so the client's {@code Accept} must list OCI types; Docker Engine before 23 fails to unpack
 * zstd, and only its {@code User-Agent} tells it apart).
 */
final class ClientPolicy {
  private static final Pattern DOCKER = Pattern.compile("(?:^|\\s)docker/(\\d+)\\.");
  private static final List<String> KNOWN =
      List.of(
          "containerd/",
          "docker/",
          "skopeo/",
          "podman/",
          "libpod/",
          "buildah/",
          "cri-o/",
          "containers/",
          "go-containerregistry/",
          "crane/",
          "transship/");

  private final boolean convertForUnknownClients;

  ClientPolicy(boolean convertForUnknownClients) {
    this.convertForUnknownClients = convertForUnknownClients;
  }

  /**
   * Whether {@code client} can take an image converted to {@code format} whose top-level type is
   * {@code convertedMediaType}.
   */
  boolean acceptsConverted(ClientInfo client, String format, String convertedMediaType) {
    String accept = client.accept();
    if (accept != null
        && !accept.isBlank()
        && !accept.contains(convertedMediaType)
        && !accept.contains("*/*")) {
      return false; // it would not understand the OCI manifest or index
    }
    String agent = client.userAgent() == null ? "" : client.userAgent();
    Matcher docker = DOCKER.matcher(agent);
    if (Formats.ZSTD.equals(format) && docker.find() && Integer.parseInt(docker.group(1)) < 23) {
      return false; // Docker Engine < 23 can't unpack zstd (eStargz is gzip: fine)
    }
    boolean known = KNOWN.stream().anyMatch(agent::contains);
    boolean acceptsOci =
        accept != null
            && (accept.contains(MediaTypes.OCI_MANIFEST) || accept.contains(MediaTypes.OCI_INDEX));
    return known && acceptsOci || convertForUnknownClients;
  }
}
