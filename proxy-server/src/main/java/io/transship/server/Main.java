package io.transship.server;

import io.transship.server.config.ConfigException;
import io.transship.server.config.ConfigLoader;
import io.transship.server.config.TransshipConfig;
import java.io.IOException;
import java.net.BindException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code transship} command line. Errors are one line on stderr, never a stack trace. */
@Command(
    name = "transship",
    mixinStandardHelpOptions = true,
    version = "transship 0.1.0",
    description = "A pull-through OCI registry proxy that transcodes layers on first pull.",
    subcommands = {
      Main.Serve.class,
      io.transship.server.cli.WarmCommand.class,
      io.transship.server.cli.ResolveCommand.class,
      io.transship.server.cli.ConvertCommand.class
    })
public final class Main implements Callable<Integer> {

  public static void main(String[] args) {
    CommandLine cli = new CommandLine(new Main());
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      commandLine.getErr().println("transship: " + oneLine(e));
      return 1;
    });
    System.exit(cli.execute(args));
  }

  static String oneLine(Throwable e) {
    if (e instanceof BindException) {
      return "cannot listen: " + e.getMessage();
    }
    String message = e.getMessage();
    return message == null ? e.getClass().getSimpleName() : message.replace('\n', ' ');
  }

  @Override
  public Integer call() {
    CommandLine.usage(this, System.out);
    return 0;
  }

  /** {@code transship serve}: run the proxy until stopped. */
  @Command(
      name = "serve",
      description = "Run the proxy (defaults: :5000, admin 127.0.0.1:5001, ./data).")
  static final class Serve implements Callable<Integer> {
    @Option(
        names = {"-c", "--config"},
        description = "YAML config file (default: $TRANSSHIP_CONFIG, else embedded defaults)")
    Path config;

    @Override
    public Integer call() throws IOException, InterruptedException {
      Path file = config;
      if (file == null && System.getenv("TRANSSHIP_CONFIG") != null) {
        file = Path.of(System.getenv("TRANSSHIP_CONFIG"));
      }
      TransshipConfig loaded;
      try {
        loaded = ConfigLoader.load(file, System.getenv());
      } catch (ConfigException e) {
        System.err.println("transship: " + e.getMessage());
        return 2;
      }
      Transship proxy = Transship.start(loaded);
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
