package io.transship.oci;

import java.util.regex.Pattern;

/**
 * A repository name such as {@code library/alpine}, validated against the grammar of the OCI
 * distribution spec v1.1, section "Pulling manifests": {@code
 * [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*}.
 */
public record RepositoryName(String value) {
  private static final String COMPONENT = "[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*";
  private static final Pattern GRAMMAR = Pattern.compile(COMPONENT + "(?:/" + COMPONENT + ")*");

  /** Clients cap host plus name at 255 characters; names alone can't be longer. */
  public static final int MAX_LENGTH = 255;

  public RepositoryName {
    if (value == null || value.length() > MAX_LENGTH || !GRAMMAR.matcher(value).matches()) {
      throw new RegistryException(ErrorCode.NAME_INVALID, "invalid repository name", value);
    }
  }

  public static boolean isValid(String value) {
    return value != null && value.length() <= MAX_LENGTH && GRAMMAR.matcher(value).matches();
  }

  @Override
  public String toString() {
    return value;
  }
}
