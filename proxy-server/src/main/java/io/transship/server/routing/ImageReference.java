package io.transship.server.routing;

import io.transship.oci.ErrorCode;
import io.transship.oci.Reference;
import io.transship.oci.RegistryException;

/**
 * An image as users write it for the admin endpoints and the CLI: {@code
 * [format/]<upstream>/<repository>[:tag][@digest]}, e.g. {@code docker.io/library/alpine:3.20}.
 * Without tag or digest the tag is {@code latest}; a digest wins over a tag.
 */
public record ImageReference(String name, Reference reference) {

  public static ImageReference parse(String text) {
    if (text == null || text.isBlank()) {
      throw new RegistryException(ErrorCode.NAME_INVALID, "empty image reference");
    }
    String value = text.trim();
    int at = value.indexOf('@');
    if (at >= 0) {
      String name = stripTag(value.substring(0, at));
      return new ImageReference(name, Reference.parse(value.substring(at + 1)));
    }
    int slash = value.lastIndexOf('/');
    int colon = value.lastIndexOf(':');
    if (colon > slash) {
      return new ImageReference(
          value.substring(0, colon), Reference.parse(value.substring(colon + 1)));
    }
    return new ImageReference(value, new Reference.Tag("latest"));
  }

  private static String stripTag(String name) {
    int slash = name.lastIndexOf('/');
    int colon = name.lastIndexOf(':');
    return colon > slash ? name.substring(0, colon) : name;
  }

  @Override
  public String toString() {
    return name + (reference instanceof Reference.ByDigest ? "@" : ":") + reference;
  }
}
