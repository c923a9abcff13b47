package io.transship.server.auth;

import io.transship.server.config.EdgeConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The users who may sign in: an htpasswd file of bcrypt hashes (as {@code htpasswd -B} writes them:
 * {@code name:$2y$05$...}), re-read by {@link #reload()}, plus users from the configuration (a
 * bcrypt hash, or a clear-text password given through the environment). A configured user replaces
 * an htpasswd entry of the same name.
 *
 * <p>{@link #verify} is deliberately slow (bcrypt); {@link Authenticator} caches its answers. For
 * an unknown user a bcrypt of a dummy hash still runs, so timing does not tell which names exist.
 */
public final class UserDirectory {
  private static final Logger LOG = LoggerFactory.getLogger(UserDirectory.class);
  private static final Pattern BCRYPT = Pattern.compile("\\$2[aby]\\$(\\d\\d)\\$[./A-Za-z0-9]{53}");

  private final Map<String, EdgeConfig.User> configured;
  private final Path htpasswd;
  private volatile Snapshot snapshot;

  /** Reads the htpasswd file (if any); an unreadable file is a start-up error. */
  public UserDirectory(Map<String, EdgeConfig.User> configured, Path htpasswd) {
    this.configured = Map.copyOf(configured);
    this.htpasswd = htpasswd;
    this.snapshot = load();
  }

  /** Re-reads the htpasswd file; throws (keeping the old users) when it cannot be read. */
  public void reload() {
    snapshot = load();
    LOG.info("htpasswd {} reloaded: {} users", htpasswd, snapshot.verifiers.size());
  }

  public Path htpasswd() {
    return htpasswd;
  }

  public int size() {
    return snapshot.verifiers.size();
  }

  /** Whether {@code password} is {@code user}'s; constant-time for clear-text passwords. */
  public boolean verify(String user, String password) {
    Snapshot current = snapshot;
    Verifier verifier = current.verifiers.get(user);
    if (verifier == null) {
      OpenBSDBCrypt.checkPassword(current.dummy, password.toCharArray());
      return false;
    }
    return verifier.matches(password);
  }

  private Snapshot load() {
    Map<String, Verifier> verifiers = new HashMap<>();
    int cost = 5;
    if (htpasswd != null) {
      List<String> lines;
      try {
        lines = Files.readAllLines(htpasswd, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new IllegalArgumentException(
            "cannot read auth.htpasswd "
                + htpasswd
                + ": "
                + io.transship.server.tls.PemKeyMaterial.why(e));
      }
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i).strip();
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        int colon = line.indexOf(':');
        String name = colon > 0 ? line.substring(0, colon) : "";
        String hash = colon > 0 ? line.substring(colon + 1) : "";
        Matcher bcrypt = BCRYPT.matcher(hash);
        if (name.isEmpty() || !bcrypt.matches()) {
          LOG.warn(
              "{} line {}{}: not a bcrypt entry (use htpasswd -B); ignored",
              htpasswd,
              i + 1,
              name.isEmpty() ? "" : " (user " + BasicCredentials.loggable(name) + ")");
          continue;
        }
        cost = Math.max(cost, Integer.parseInt(bcrypt.group(1)));
        verifiers.put(name, new Bcrypt(hash));
      }
    }
    for (Map.Entry<String, EdgeConfig.User> user : configured.entrySet()) {
      EdgeConfig.User entry = user.getValue();
      if (entry.bcrypt() != null) {
        Matcher bcrypt = BCRYPT.matcher(entry.bcrypt());
        if (bcrypt.matches()) {
          cost = Math.max(cost, Integer.parseInt(bcrypt.group(1)));
        }
      }
      verifiers.put(
          user.getKey(),
          entry.bcrypt() != null ? new Bcrypt(entry.bcrypt()) : new Clear(entry.password()));
    }
    byte[] salt = new byte[16];
    SecureRandom random = new SecureRandom();
    random.nextBytes(salt);
    char[] nothing = Long.toHexString(random.nextLong()).toCharArray();
    return new Snapshot(
        Map.copyOf(verifiers), OpenBSDBCrypt.generate("2y", nothing, salt, Math.min(cost, 14)));
  }

  private record Snapshot(Map<String, Verifier> verifiers, String dummy) {}

  private interface Verifier {
    boolean matches(String password);
  }

  private record Bcrypt(String hash) implements Verifier {
    @Override
    public boolean matches(String password) {
      return OpenBSDBCrypt.checkPassword(hash, password.toCharArray());
    }

    @Override
    public String toString() {
      return "Bcrypt[hidden]";
    }
  }

  /** A clear-text password, kept only as its SHA-256 and compared in constant time. */
  private static final class Clear implements Verifier {
    private final byte[] sha256;

    Clear(String password) {
      this.sha256 = sha256(password);
    }

    @Override
    public boolean matches(String password) {
      return MessageDigest.isEqual(sha256, sha256(password));
    }

    private static byte[] sha256(String text) {
      try {
        return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
