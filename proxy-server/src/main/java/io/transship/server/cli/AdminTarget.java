package io.transship.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.transship.server.config.ConfigException;
import io.transship.server.config.HostPort;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Where {@code warm} and {@code resolve} find the running proxy: {@code --admin URL}, else {@code
 * $TRANSSHIP_ADMIN_URL}, else the {@code admin.listen} of the same configuration {@code serve}
 * reads ({@code --config} / {@code $TRANSSHIP_CONFIG}); a wildcard listen address is reached on
 * loopback.
 *
 * <p>Admin token hook: when the configuration has {@code admin.token-file}, or {@code
 * $TRANSSHIP_ADMIN_TOKEN} is set, the token is sent as {@code Authorization: Bearer <token>}.
 */
public final class AdminTarget {
  @Mixin ConfigFile config;

  @Option(
      names = "--admin",
      paramLabel = "URL",
      description =
          "admin URL of the proxy (default: $TRANSSHIP_ADMIN_URL, else admin.listen of the config)")
  String admin;

  /** A client of the admin port. */
  AdminClient client() {
    JsonNode tree = null;
    String base = admin;
    if (base == null) {
      base = System.getenv("TRANSSHIP_ADMIN_URL");
    }
    if (base == null || base.isBlank()) {
      tree = config.tree();
      base = urlOf(HostPort.parse(tree.path("admin").path("listen").asText("127.0.0.1:5001")));
    }
    return new AdminClient(base, token(tree));
  }

  /** {@code http://host:port}; 0.0.0.0 and :: become loopback. */
  static String urlOf(HostPort listen) {
    String host =
        switch (listen.host()) {
          case "0.0.0.0", "" -> "127.0.0.1";
          case "::", "[::]" -> "[::1]";
          default -> listen.host().contains(":") ? "[" + listen.host() + "]" : listen.host();
        };
    return "http://" + host + ":" + listen.port();
  }

  @picocli.CommandLine.Option(
      names = "--admin-token-file",
      description =
          "file holding the admin token (default: $TRANSSHIP_ADMIN__TOKEN, then the config's"
              + " admin.token / admin.token-file)")
  Path tokenFile;

  /**
   * The admin token, from {@code --admin-token-file}, else {@code TRANSSHIP_ADMIN__TOKEN} (the
   * variable that also configures the server; {@code TRANSSHIP_ADMIN_TOKEN} works too), else the
   * config's {@code admin.token} or {@code admin.token-file}; null when none is set.
   */
  private String token(JsonNode tree) {
    if (tokenFile != null) {
      try {
        return Files.readString(tokenFile).strip();
      } catch (IOException e) {
        throw new ConfigException(
            "cannot read the admin token file " + tokenFile + ": " + e.getMessage());
      }
    }
    for (String variable : new String[] {"TRANSSHIP_ADMIN__TOKEN", "TRANSSHIP_ADMIN_TOKEN"}) {
      String fromEnv = System.getenv(variable);
      if (fromEnv != null && !fromEnv.isBlank()) {
        return fromEnv.trim();
      }
    }
    if (tree == null) {
      try {
        tree = config.tree();
      } catch (ConfigException e) {
        return null; // --admin given and the config is not ours to judge here
      }
    }
    String inline = tree.path("admin").path("token").asText("");
    if (!inline.isEmpty()) {
      return inline;
    }
    String file = tree.path("admin").path("token-file").asText("");
    if (file.isEmpty()) {
      return null;
    }
    try {
      return Files.readString(Path.of(file)).trim();
    } catch (IOException e) {
      throw new ConfigException("cannot read admin.token-file " + file + ": " + e.getMessage());
    }
  }
}
