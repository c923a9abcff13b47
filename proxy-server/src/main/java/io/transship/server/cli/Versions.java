package io.transship.server.cli;

import picocli.CommandLine.IVersionProvider;

/** The version of this build, from the jar manifest ({@code Implementation-Version}). */
public final class Versions implements IVersionProvider {
  /** {@code 0.1.0-SNAPSHOT}, or {@code dev} when not run from the packaged jar. */
  public static String version() {
    String v = Versions.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  @Override
  public String[] getVersion() {
    return new String[] {
      "transship " + version(),
      "Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")"
    };
  }
}
