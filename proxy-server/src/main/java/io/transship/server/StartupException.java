package io.transship.server;

/**
 * A start that can't go on, with a one-line message naming what failed, where, and what to change;
 * {@link #exitCode} is 2 for what the operator must fix in configuration or environment (a storage
 * root in use by another process), 1 otherwise.
 */
public final class StartupException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int exitCode;

  public StartupException(String message, int exitCode) {
    super(message);
    this.exitCode = exitCode;
  }

  public int exitCode() {
    return exitCode;
  }
}
