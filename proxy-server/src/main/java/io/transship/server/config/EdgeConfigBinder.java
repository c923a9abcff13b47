package io.transship.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Binds the {@code tls}, {@code auth}, {@code admin.token*} and {@code server} keys. */
final class EdgeConfigBinder {
  private EdgeConfigBinder() {}

  static EdgeConfig bind(JsonNode tree) {
    return new EdgeConfig(
        tls(tree.path("tls")),
        auth(tree.path("auth")),
        adminToken(tree.path("admin")),
        strings(tree.path("server").path("trusted-proxies"), "server.trusted-proxies"));
  }

  private static EdgeConfig.Tls tls(JsonNode node) {
    String cert = node.path("cert-file").asText("");
    String key = node.path("key-file").asText("");
    EdgeConfig.Acme acme = acme(node.path("acme"));
    if (acme != null) {
      if (!cert.isEmpty() || !key.isEmpty()) {
        throw new ConfigException("tls.acme and tls.cert-file/key-file are exclusive; set one");
      }
      try {
        return new EdgeConfig.Tls(
            HostPort.parse(node.path("listen").asText("")),
            null,
            null,
            duration(node, "reload-interval", "tls.reload-interval", Duration.ofSeconds(5)),
            acme);
      } catch (IllegalArgumentException e) {
        throw new ConfigException("tls.listen: " + e.getMessage());
      }
    }
    if (cert.isEmpty() && key.isEmpty()) {
      return null;
    }
    if (cert.isEmpty() || key.isEmpty()) {
      throw new ConfigException("tls.cert-file and tls.key-file must be set together");
    }
    String listen = node.path("listen").asText("");
    if (listen.isEmpty()) {
      throw new ConfigException("tls.listen is empty but tls.cert-file is set");
    }
    try {
      return new EdgeConfig.Tls(
          HostPort.parse(listen),
          Path.of(cert),
          Path.of(key),
          duration(node, "reload-interval", "tls.reload-interval", Duration.ofSeconds(5)));
    } catch (IllegalArgumentException e) {
      throw new ConfigException("tls.listen: " + e.getMessage());
    }
  }

  private static EdgeConfig.Acme acme(JsonNode node) {
    String directory = node.path("directory").asText("");
    if (directory.isEmpty()) {
      return null;
    }
    java.net.URI uri;
    try {
      uri = java.net.URI.create(directory);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("tls.acme.directory is not a URL");
    }
    if (!"https".equals(uri.getScheme())) {
      throw new ConfigException("tls.acme.directory must be an https:// URL");
    }
    List<String> domains = strings(node.path("domains"), "tls.acme.domains");
    if (domains.isEmpty()) {
      throw new ConfigException("tls.acme.domains must name at least one host name");
    }
    String email = node.path("email").asText("");
    String ca = node.path("ca-file").asText("");
    return new EdgeConfig.Acme(
        uri,
        email.isEmpty() ? null : email,
        domains,
        ca.isEmpty() ? null : Path.of(ca),
        duration(node, "renew-before", "tls.acme.renew-before", Duration.ofDays(30)),
        duration(node, "check-interval", "tls.acme.check-interval", Duration.ofHours(6)));
  }

  private static EdgeConfig.Auth auth(JsonNode node) {
    String htpasswd = node.path("htpasswd").asText("");
    Map<String, EdgeConfig.User> users = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = node.path("users").fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> entry = it.next();
      users.put(entry.getKey(), user(entry.getKey(), entry.getValue()));
    }
    List<EdgeConfig.AccessRule> access = new ArrayList<>();
    int index = 0;
    for (JsonNode rule : node.path("access")) {
      String where = "auth.access[" + index++ + "]";
      List<String> names = strings(rule.path("users"), where + ".users");
      List<String> repositories = strings(rule.path("repositories"), where + ".repositories");
      if (names.isEmpty() || repositories.isEmpty()) {
        throw new ConfigException(
            where + " needs users: [names] and repositories: [\"<alias>/<glob>\"]");
      }
      for (String repository : repositories) {
        if (repository.indexOf('/') <= 0) {
          throw new ConfigException(
              where
                  + ": repository pattern '"
                  + repository
                  + "' must start with an upstream alias, e.g. docker.io/library/*");
        }
      }
      access.add(new EdgeConfig.AccessRule(names, repositories));
    }
    String challenge = node.path("challenge").asText("bearer");
    if (!challenge.equals("bearer") && !challenge.equals("basic")) {
      throw new ConfigException("auth.challenge must be bearer or basic");
    }
    String realm = node.path("realm").asText("");
    String secret = node.path("token-secret").asText("");
    if (!secret.isEmpty() && secret.getBytes(StandardCharsets.UTF_8).length < 32) {
      throw new ConfigException("auth.token-secret must be at least 32 bytes");
    }
    return new EdgeConfig.Auth(
        htpasswd.isEmpty() ? null : Path.of(htpasswd),
        users,
        access,
        challenge,
        realm.isEmpty() ? null : realm,
        duration(node, "token-ttl", "auth.token-ttl", Duration.ofMinutes(5)),
        secret.isEmpty() ? null : secret,
        duration(node, "cache-ttl", "auth.cache-ttl", Duration.ofMinutes(5)));
  }

  private static EdgeConfig.User user(String name, JsonNode node) {
    String where = "auth.users." + name;
    if (name.isEmpty()
        || name.contains(":")
        || name.equals("anonymous")
        || name.equals("authenticated")) {
      throw new ConfigException(where + ": not a usable user name");
    }
    String bcrypt = node.path("bcrypt").asText("");
    String password = node.path("password").asText("");
    if (bcrypt.isEmpty() == password.isEmpty()) {
      throw new ConfigException(
          where
              + " needs exactly one of bcrypt: <htpasswd -B hash> or password: <from the"
              + " environment, TRANSSHIP_AUTH__USERS__"
              + name.toUpperCase(java.util.Locale.ROOT).replace('-', '_').replace('.', '_')
              + "__PASSWORD>");
    }
    if (!bcrypt.isEmpty() && !bcrypt.matches("\\$2[aby]\\$\\d\\d\\$[./A-Za-z0-9]{53}")) {
      throw new ConfigException(where + ".bcrypt is not a bcrypt hash ($2y$...)");
    }
    return new EdgeConfig.User(
        bcrypt.isEmpty() ? null : bcrypt, password.isEmpty() ? null : password);
  }

  private static String adminToken(JsonNode admin) {
    String token = admin.path("token").asText("");
    String file = admin.path("token-file").asText("");
    if (!token.isEmpty() && !file.isEmpty()) {
      throw new ConfigException("admin.token and admin.token-file are exclusive; set one");
    }
    if (!file.isEmpty()) {
      try {
        token = Files.readString(Path.of(file), StandardCharsets.UTF_8).strip();
      } catch (java.io.IOException e) {
        throw new ConfigException("cannot read admin.token-file " + file + ": " + e.getMessage());
      }
      if (token.isEmpty()) {
        throw new ConfigException("admin.token-file " + file + " is empty");
      }
    }
    if (!token.isEmpty() && token.length() < 16) {
      throw new ConfigException("the admin token must be at least 16 characters");
    }
    return token.isEmpty() ? null : token;
  }

  private static List<String> strings(JsonNode node, String where) {
    List<String> values = new ArrayList<>();
    if (node.isMissingNode() || node.isNull()) {
      return values;
    }
    if (node.isTextual()) {
      // from the environment: a comma-separated list
      for (String part : node.asText().split(",")) {
        if (!part.isBlank()) {
          values.add(part.strip());
        }
      }
      return values;
    }
    if (!node.isArray()) {
      throw new ConfigException(where + " must be a list");
    }
    node.forEach(v -> values.add(v.asText()));
    return values;
  }

  private static Duration duration(JsonNode node, String field, String path, Duration fallback) {
    String text = node.path(field).asText("");
    if (text.isEmpty()) {
      return fallback;
    }
    try {
      return Sizes.parseDuration(text);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(path + ": " + e.getMessage());
    }
  }
}
