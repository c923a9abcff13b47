package io.transship.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs skopeo with a private signature policy (accept anything), an empty auth file (so no
 * credentials from the machine leak into a request) and a private temp directory.
 */
public final class Skopeo {
  private final Path policy;
  private final Path authFile;
  private final Path tmp;

  public Skopeo(E2eEnv env) {
    Tools.require("skopeo");
    Path d = env.dir("skopeo");
    try {
      policy =
          Files.writeString(
              d.resolve("policy.json"), "{\"default\":[{\"type\":\"insecureAcceptAnything\"}]}\n");
      authFile = Files.writeString(d.resolve("auth.json"), "{\"auths\":{}}\n");
      tmp = Files.createDirectories(d.resolve("tmp"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code skopeo --policy P <args>}, not yet run. */
  public Cmd cmd(String... args) {
    List<String> all = new ArrayList<>(List.of("skopeo", "--policy", policy.toString()));
    all.addAll(List.of(args));
    return Cmd.of(all)
        .env("REGISTRY_AUTH_FILE", authFile.toString())
        .env("TMPDIR", tmp.toString())
        .timeout(Duration.ofMinutes(5));
  }

  /** {@code skopeo copy <args>} over plain HTTP; asserts success. */
  public Cmd.Result copy(String... args) {
    List<String> all =
        new ArrayList<>(List.of("copy", "--src-tls-verify=false", "--dest-tls-verify=false"));
    all.addAll(List.of(args));
    return cmd(all.toArray(String[]::new)).ok();
  }

  /** The raw manifest bytes of {@code docker://ref}. */
  public byte[] inspectRaw(String ref, String... extra) {
    List<String> all = new ArrayList<>(List.of("inspect", "--tls-verify=false", "--raw"));
    all.addAll(List.of(extra));
    all.add("docker://" + ref);
    return cmd(all.toArray(String[]::new)).ok().stdoutBytes();
  }
}
