package io.transship.server.config;

/** A configuration problem, with a one-line message for the user. */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }
}
