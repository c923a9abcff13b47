package io.transship.server.auth;

import io.transship.server.config.EdgeConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Who may pull which repositories, by {@code <alias>/<repository>} as the request was routed (after
 * {@code ?ns=}, alias prefix or default upstream, and {@code library/} added), so every way of
 * naming a repository is checked the same. Like zot's {@code accessControl} for pulls: a rule lists
 * users — {@code anonymous} for clients without credentials, {@code authenticated} for any
 * signed-in user — and repository globs: {@code *} matches within one path segment, {@code **}
 * across segments. Anything not granted is denied.
 */
public final class AccessRules {
  public static final String ANONYMOUS = "anonymous";
  public static final String AUTHENTICATED = "authenticated";

  private final List<Rule> rules;

  public AccessRules(List<EdgeConfig.AccessRule> configured) {
    List<Rule> compiled = new ArrayList<>();
    for (EdgeConfig.AccessRule rule : configured) {
      List<Pattern> patterns = new ArrayList<>();
      rule.repositories().forEach(r -> patterns.add(glob(r)));
      compiled.add(new Rule(Set.copyOf(rule.users()), List.copyOf(patterns)));
    }
    this.rules = List.copyOf(compiled);
  }

  /**
   * @param user the signed-in user, or null for anonymous
   * @param repository {@code <alias>/<repository>}
   */
  public boolean allows(String user, String repository) {
    for (Rule rule : rules) {
      if (rule.names(user) && rule.matches(repository)) {
        return true;
      }
    }
    return false;
  }

  /** Whether anonymous clients may pull anything at all. */
  public boolean anonymousAllowedSomewhere() {
    return rules.stream().anyMatch(r -> r.users.contains(ANONYMOUS));
  }

  /** Compiles {@code docker.io/library/*} or {@code ghcr.io/org/**} into an anchored regex. */
  static Pattern glob(String glob) {
    StringBuilder regex = new StringBuilder();
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      if (c == '*' && i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
        regex.append(".*");
        i++;
      } else if (c == '*') {
        regex.append("[^/]*");
      } else if (c == '?') {
        regex.append("[^/]");
      } else {
        regex.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(regex.toString());
  }

  private record Rule(Set<String> users, List<Pattern> repositories) {
    boolean names(String user) {
      if (user == null) {
        return users.contains(ANONYMOUS);
      }
      return users.contains(user) || users.contains(AUTHENTICATED);
    }

    boolean matches(String repository) {
      return repositories.stream().anyMatch(p -> p.matcher(repository).matches());
    }
  }
}
