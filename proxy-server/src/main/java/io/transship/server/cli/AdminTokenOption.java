package io.transship.server.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The admin token the CLI sends ({@code Authorization: Bearer}): from {@code --admin-token-file},
 * else {@code TRANSSHIP_ADMIN__TOKEN} (the variable that also configures the server), else none.
 */
final class AdminTokenOption {
  @Option(
      names = "--admin-token-file",
      description = "file holding the admin token (default: $TRANSSHIP_ADMIN__TOKEN)")
  Path file;

  /** The token, or null. */
  String value() {
    if (file != null) {
      try {
        return Files.readString(file, StandardCharsets.UTF_8).strip();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the admin token file " + file, e);
      }
    }
    String env = System.getenv("TRANSSHIP_ADMIN__TOKEN");
    return env == null || env.isBlank() ? null : env.strip();
  }
}
