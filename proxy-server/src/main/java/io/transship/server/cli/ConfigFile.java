package io.transship.server.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.transship.server.config.ConfigLoader;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The {@code --config} option every command shares: the file given, else {@code $TRANSSHIP_CONFIG},
 * else the embedded defaults alone. {@code serve}, {@code config check}, {@code warm} and {@code
 * resolve} read the same settings this way.
 */
public final class ConfigFile {
  @Option(
      names = {"-c", "--config"},
      paramLabel = "FILE",
      description = "YAML config file (default: $TRANSSHIP_CONFIG, else the embedded defaults)")
  Path config;

  /** The file to read, or null for defaults only. */
  public Path path() {
    if (config != null) {
      return config;
    }
    String fromEnv = System.getenv("TRANSSHIP_CONFIG");
    return fromEnv == null || fromEnv.isBlank() ? null : Path.of(fromEnv);
  }

  /** The effective tree (file + environment over defaults), checked key by key. */
  public ObjectNode tree() {
    return ConfigLoader.loadTree(path(), environment());
  }

  static Map<String, String> environment() {
    return System.getenv();
  }
}
