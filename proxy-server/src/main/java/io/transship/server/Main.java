package io.transship.server;

import io.transship.server.cli.ConfigCommand;
import io.transship.server.cli.ConfigFile;
import io.transship.server.cli.Versions;
import io.transship.server.config.ConfigException;
import io.transship.server.config.ConfigLoader;
import io.transship.server.config.TransshipConfig;
import io.transship.server.logging.LogFormat;
import java.io.IOException;
import java.net.BindException;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * The {@code transship} command line. Errors are one line on stderr, never a stack trace; exit 2 is
 * a usage or configuration mistake, 1 a failure.
 */
@Command(
    name = "transship",
    mixinStandardHelpOptions = true,
    versionProvider = Versions.class,
    description = "A pull-through OCI registry proxy that transcodes layers on first pull.",
    subcommands = {
      Main.Serve.class,
      ConfigCommand.class,
      io.transship.server.cli.WarmCommand.class,
      io.transship.server.cli.ResolveCommand.class,
      io.transship.server.cli.ConvertCommand.class,
      Main.Version.class
    })
public final class Main implements Callable<Integer> {

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The command tree, with {@code --help} and {@code --version} on every (sub)command. */
  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Main());
    standardOptions(cli);
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      commandLine.getErr().println("transship: " + oneLine(e));
      return e instanceof ConfigException ? 2 : 1;
    });
    return cli;
  }

  private static void standardOptions(CommandLine command) {
    for (CommandLine sub : command.getSubcommands().values()) {
      var spec = sub.getCommandSpec();
      if (spec.optionsMap().get("--help") == null) {
        spec.mixinStandardHelpOptions(true);
      }
      if (sub.getCommandSpec().version().length == 0) {
        spec.versionProvider(new Versions());
      }
      standardOptions(sub);
    }
  }

  static String oneLine(Throwable e) {
    if (e instanceof BindException) {
      return "cannot listen: " + e.getMessage();
    }
    String message = e.getMessage();
    return message == null ? e.getClass().getSimpleName() : message.replace('\n', ' ');
  }

  /** Bare {@code transship}: the usage, on stderr, and exit 2 (a command is required). */
  @Override
  public Integer call() {
    CommandLine.usage(this, System.err);
    return 2;
  }

  /** {@code transship version}. */
  @Command(name = "version", description = "Print the version of transship and of the JVM.")
  static final class Version implements Callable<Integer> {
    @Override
    public Integer call() {
      for (String line : new Versions().getVersion()) {
        System.out.println(line);
      }
      return 0;
    }
  }

  /** {@code transship serve}: run the proxy until stopped. */
  @Command(
      name = "serve",
      description = "Run the proxy (defaults: :5000, admin 127.0.0.1:5001, ./data).")
  static final class Serve implements Callable<Integer> {
    @Mixin ConfigFile config;

    @Override
    public Integer call() throws IOException, InterruptedException {
      TransshipConfig loaded;
      try {
        var tree = config.tree();
        LogFormat.apply(tree.path("log"));
        loaded = ConfigLoader.bind(tree);
      } catch (ConfigException e) {
        System.err.println("transship: " + e.getMessage());
        return 2;
      }
      Transship proxy;
      try {
        proxy = Transship.start(loaded);
      } catch (StartupException e) {
        System.err.println("transship: " + e.getMessage());
        return e.exitCode();
      }
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(() -> {
                try {
                  proxy.shutdown();
                } catch (IOException | InterruptedException ignored) {
                  // exiting anyway
                }
                stopped.countDown();
              }));
      stopped.await();
      return 0;
    }
  }
}
