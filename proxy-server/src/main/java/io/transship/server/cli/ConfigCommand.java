package io.transship.server.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import io.transship.server.config.ConfigLoader;
import io.transship.server.config.Secrets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code transship config}: configuration tools. */
@Command(
    name = "config",
    mixinStandardHelpOptions = true,
    versionProvider = Versions.class,
    description = "Configuration tools.",
    subcommands = {ConfigCommand.Check.class})
public final class ConfigCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    CommandLine.usage(this, System.err);
    return 2;
  }

  /**
   * {@code transship config check}: validate the configuration exactly as {@code serve} would and
   * print the effective settings (defaults, file and environment merged), secrets masked.
   */
  @Command(
      name = "check",
      mixinStandardHelpOptions = true,
      versionProvider = Versions.class,
      description = {
        "Validate the configuration as serve would (exit 2 on a mistake) and print the",
        "effective settings, defaults + file + TRANSSHIP_* variables, with secrets masked."
      })
  static final class Check implements Callable<Integer> {
    @Mixin ConfigFile config;

    @Override
    public Integer call() throws Exception {
      ObjectNode tree = config.tree();
      ConfigLoader.bind(tree);
      ObjectMapper yaml =
          new ObjectMapper(
              YAMLFactory.builder()
                  .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                  .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                  .build());
      Path file = config.path();
      System.out.println(
          "# effective configuration: embedded defaults"
              + (file == null ? "" : " + " + file)
              + " + TRANSSHIP_* environment; secrets masked");
      System.out.print(yaml.writeValueAsString(Secrets.masked(tree)));
      return 0;
    }
  }
}
