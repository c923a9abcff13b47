package io.transship.server.component;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.transship.oci.MediaTypes;
import io.transship.server.config.EdgeConfig;
import io.transship.server.testing.FakeUpstream;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Client authentication and access rules on a real transship: Basic and token flows, 401 vs 403,
 * every routing form checked the same, anonymous rules, the bcrypt cache, htpasswd reload, the
 * admin token, trusted proxies, and what never reaches logs, error bodies or the upstream.
 */
class ClientAuthTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String ALICE_PASSWORD = "alice-Secret-1";
  private static final String BOB_PASSWORD = "bob-Secret-2";
  private static final String CI_PASSWORD = "ci-Secret-3";
  private static final String ADMIN_TOKEN = "admin-token-0123456789";

  @TempDir Path dir;
  FakeUpstream upstream;
  ProxyHarness harness;
  Path htpasswd;
  ListAppender<ILoggingEvent> logs;
  final List<String> bodies = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    logs = new ListAppender<>();
    logs.start();
    root().addAppender(logs);
    upstream = FakeUpstream.start();
    for (String repo : List.of("team/app", "team/other", "public/base", "private/x")) {
      upstream.putManifest(repo, "v1", ManifestProxyTest.MANIFEST, MediaTypes.OCI_MANIFEST);
    }
    htpasswd = dir.resolve("htpasswd");
    Files.writeString(
        htpasswd, "alice:" + bcrypt(ALICE_PASSWORD) + "\nbob:" + bcrypt(BOB_PASSWORD) + "\n");
    startProxy(List.of());
  }

  private void startProxy(List<String> trustedProxies) throws Exception {
    EdgeConfig.Auth auth =
        new EdgeConfig.Auth(
            htpasswd,
            Map.of("ci", new EdgeConfig.User(null, CI_PASSWORD)),
            List.of(
                new EdgeConfig.AccessRule(List.of("alice", "ci"), List.of("fake/team/**")),
                new EdgeConfig.AccessRule(List.of("anonymous"), List.of("fake/public/*"))),
            "bearer",
            null,
            Duration.ofMinutes(5),
            null,
            Duration.ofMinutes(5));
    harness =
        ProxyHarness.start(
            EdgeHarness.withEdge(
                ProxyHarness.config(
                    upstream, dir.resolve("data"), Duration.ofMinutes(1), null, null),
                new EdgeConfig(null, auth, ADMIN_TOKEN, trustedProxies)),
            upstream);
  }

  @AfterEach
  void stop() throws Exception {
    root().detachAppender(logs);
    harness.close();
    upstream.close();
  }

  private static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  private static String bcrypt(String password) {
    byte[] salt = new byte[16];
    new SecureRandom().nextBytes(salt);
    return OpenBSDBCrypt.generate("2y", password.toCharArray(), salt, 5);
  }

  private static String basic(String user, String password) {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  private HttpResponse<byte[]> get(String path, String... headers) throws Exception {
    HttpResponse<byte[]> response = harness.get(path, headers);
    bodies.add(new String(response.body(), StandardCharsets.UTF_8));
    return response;
  }

  private static String code(HttpResponse<byte[]> response) throws Exception {
    return JSON.readTree(response.body()).path("errors").path(0).path("code").asText();
  }

  private String token(String scope, String... headers) throws Exception {
    HttpResponse<byte[]> response =
        get(
            "/token?service=transship&scope=" + URLEncoder.encode(scope, StandardCharsets.UTF_8),
            headers);
    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode body = JSON.readTree(response.body());
    assertThat(body.path("expires_in").asLong()).isEqualTo(300);
    assertThat(body.path("issued_at").asText()).isNotEmpty();
    assertThat(body.path("access_token").asText()).isEqualTo(body.path("token").asText());
    return body.path("token").asText();
  }

  @Test
  void theBaseEndpointChallengesWithTheTokenRealmUntilCredentialsAreGiven() throws Exception {
    HttpResponse<byte[]> anonymous = get("/v2/");
    assertThat(anonymous.statusCode()).isEqualTo(401);
    assertThat(code(anonymous)).isEqualTo("UNAUTHORIZED");
    assertThat(anonymous.headers().firstValue("WWW-Authenticate"))
        .hasValue(
            "Bearer realm=\"http://127.0.0.1:"
                + harness.proxy.port()
                + "/token\",service=\"transship\"");
    assertThat(get("/v2/", "Authorization", basic("alice", ALICE_PASSWORD)).statusCode())
        .isEqualTo(200);
    assertThat(get("/v2/", "Authorization", basic("alice", "wrong")).statusCode()).isEqualTo(401);
  }

  @Test
  void basicCredentialsPullWhatTheRulesAllowAndNothingElse() throws Exception {
    assertThat(
            get("/v2/fake/team/app/manifests/v1", "Authorization", basic("alice", ALICE_PASSWORD))
                .statusCode())
        .isEqualTo(200);
    assertThat(
            get("/v2/fake/team/app/manifests/v1", "Authorization", basic("ci", CI_PASSWORD))
                .statusCode())
        .isEqualTo(200);
    HttpResponse<byte[]> wrong =
        get("/v2/fake/team/app/manifests/v1", "Authorization", basic("alice", "nope"));
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(code(wrong)).isEqualTo("UNAUTHORIZED");
    assertThat(
            get("/v2/fake/team/app/manifests/v1", "Authorization", basic("mallory", "x"))
                .statusCode())
        .isEqualTo(401);
    HttpResponse<byte[]> bob =
        get("/v2/fake/team/app/manifests/v1", "Authorization", basic("bob", BOB_PASSWORD));
    assertThat(bob.statusCode()).isEqualTo(403);
    assertThat(code(bob)).isEqualTo("DENIED");
    assertThat(
            get("/v2/fake/private/x/manifests/v1", "Authorization", basic("alice", ALICE_PASSWORD))
                .statusCode())
        .isEqualTo(403);
  }

  @Test
  void everyWayOfNamingARepositoryIsCheckedOnTheRoutedName() throws Exception {
    String ns = "?ns=" + upstream.hostPort();
    String bob = basic("bob", BOB_PASSWORD);
    String alice = basic("alice", ALICE_PASSWORD);
    for (String path :
        List.of(
            "/v2/fake/team/app/manifests/v1", // alias prefix
            "/v2/team/app/manifests/v1", // default upstream
            "/v2/team/app/manifests/v1" + ns, // containerd mirror
            "/v2/none/fake/team/app/manifests/v1", // format selector
            "/v2/fake/team/app/tags/list")) {
      assertThat(get(path, "Authorization", bob).statusCode()).as(path).isEqualTo(403);
      assertThat(get(path, "Authorization", alice).statusCode()).as(path).isEqualTo(200);
    }
    // cached content is served only to those allowed: alice's pull above cached it
    assertThat(get("/v2/team/app/manifests/v1" + ns).statusCode()).isEqualTo(401);
  }

  @Test
  void anonymousPullsOnlyWhatAnonymousRulesAllow() throws Exception {
    assertThat(get("/v2/fake/public/base/manifests/v1").statusCode()).isEqualTo(200);
    HttpResponse<byte[]> refused = get("/v2/fake/team/app/manifests/v1");
    assertThat(refused.statusCode()).isEqualTo(401);
    assertThat(refused.headers().firstValue("WWW-Authenticate").orElseThrow())
        .contains("scope=\"repository:fake/team/app:pull\"");
    String anonymous = token("repository:fake/public/base:pull repository:fake/team/app:pull");
    assertThat(
            get("/v2/fake/public/base/manifests/v1", "Authorization", "Bearer " + anonymous)
                .statusCode())
        .isEqualTo(200);
    assertThat(
            get("/v2/fake/team/app/manifests/v1", "Authorization", "Bearer " + anonymous)
                .statusCode())
        .isEqualTo(401);
  }

  @Test
  void tokensCarryOnlyTheGrantedScopesAndAreRefusedWhenTampered() throws Exception {
    String alice = basic("alice", ALICE_PASSWORD);
    // containerd asks for the name without the alias (default upstream) as well as the challenge's
    String token =
        token("repository:team/app:pull repository:fake/private/x:pull", "Authorization", alice);
    assertThat(
            get("/v2/fake/team/app/manifests/v1", "Authorization", "Bearer " + token).statusCode())
        .isEqualTo(200);
    assertThat(get("/v2/", "Authorization", "Bearer " + token).statusCode()).isEqualTo(200);
    HttpResponse<byte[]> notInToken =
        get("/v2/fake/team/other/manifests/v1", "Authorization", "Bearer " + token);
    assertThat(notInToken.statusCode()).isEqualTo(401);
    assertThat(notInToken.headers().firstValue("WWW-Authenticate").orElseThrow())
        .contains("scope=\"repository:fake/team/other:pull\"", "error=\"insufficient_scope\"");
    assertThat(
            get("/v2/fake/private/x/manifests/v1", "Authorization", "Bearer " + token).statusCode())
        .isEqualTo(403);
    String tampered = token.substring(0, token.length() - 2) + (token.endsWith("A") ? "BB" : "AA");
    HttpResponse<byte[]> bad =
        get("/v2/fake/team/app/manifests/v1", "Authorization", "Bearer " + tampered);
    assertThat(bad.statusCode()).isEqualTo(401);
    assertThat(bad.headers().firstValue("WWW-Authenticate").orElseThrow())
        .contains("error=\"invalid_token\"");
    HttpResponse<byte[]> wrong =
        get(
            "/token?service=transship&scope=repository:fake/team/app:pull",
            "Authorization",
            basic("alice", "nope"));
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(code(wrong)).isEqualTo("UNAUTHORIZED");
  }

  @Test
  void bcryptRunsOncePerCredentialNotPerRequest() throws Exception {
    String alice = basic("alice", ALICE_PASSWORD);
    double before = metric("transship_auth_password_checks_total");
    for (int i = 0; i < 20; i++) {
      assertThat(get("/v2/fake/team/app/manifests/v1", "Authorization", alice).statusCode())
          .isEqualTo(200);
    }
    assertThat(metric("transship_auth_password_checks_total") - before).isEqualTo(1.0);
  }

  @Test
  void failedSignInsAreCountedAndLoggedWithUserAndAddressButNoSecretAnywhere() throws Exception {
    get("/v2/fake/team/app/manifests/v1", "Authorization", basic("alice", "Wr0ng-Pa55word"));
    get("/v2/fake/team/app/manifests/v1", "Authorization", "Bearer forged.token");
    String token =
        token("repository:fake/team/app:pull", "Authorization", basic("alice", ALICE_PASSWORD));
    get("/v2/fake/team/app/manifests/v1", "Authorization", "Bearer " + token);
    get("/v2/fake/team/app/manifests/v1", "Authorization", basic("bob", BOB_PASSWORD));
    get("/v2/fake/team/app/manifests/v1", "Authorization", basic("ci", CI_PASSWORD));

    assertThat(metric("transship_auth_failures_total{reason=\"bad-password\"}")).isEqualTo(1.0);
    assertThat(metric("transship_auth_failures_total{reason=\"bad-token\"}")).isEqualTo(1.0);
    // every request's access line (written after its response) is in before the check
    for (int i = 0; i < 200 && accessLines() < 6; i++) {
      Thread.sleep(50);
    }
    assertThat(accessLines()).isGreaterThanOrEqualTo(6);
    List<String> lines = new ArrayList<>();
    for (ILoggingEvent event : events()) {
      lines.add(
          event.getFormattedMessage()
              + (event.getThrowableProxy() == null
                  ? ""
                  : ThrowableProxyUtil.asString(event.getThrowableProxy())));
    }
    assertThat(lines)
        .anyMatch(
            l -> l.contains("authentication failed: bad-password user=alice client=127.0.0.1"));
    List<String> secrets =
        List.of(
            ALICE_PASSWORD,
            BOB_PASSWORD,
            CI_PASSWORD,
            "Wr0ng-Pa55word",
            token,
            basic("alice", ALICE_PASSWORD).substring(6),
            "forged.token",
            "Authorization",
            "Basic ",
            "Bearer ");
    for (String secret : secrets) {
      assertThat(lines).as("log lines").noneMatch(l -> l.contains(secret));
      assertThat(bodies.subList(0, bodies.size()))
          .as("error bodies")
          .noneMatch(b -> b.contains(secret) && !b.contains("\"token\""));
    }
    // the client's Authorization header never went upstream
    assertThat(upstream.requests()).isNotEmpty().allMatch(r -> r.header("Authorization") == null);
  }

  @Test
  void aChangedHtpasswdFileTakesEffectWithoutARestart() throws Exception {
    String path = "/v2/fake/team/app/manifests/v1";
    assertThat(get(path, "Authorization", basic("alice", ALICE_PASSWORD)).statusCode())
        .isEqualTo(200);
    Path next = dir.resolve("htpasswd.new");
    Files.writeString(next, "alice:" + bcrypt("rotated-Password-4") + "\n");
    Files.move(next, htpasswd, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    int status = 0;
    for (int i = 0; i < 200 && status != 200; i++) {
      Thread.sleep(100);
      status = get(path, "Authorization", basic("alice", "rotated-Password-4")).statusCode();
    }
    assertThat(status).isEqualTo(200);
    assertThat(get(path, "Authorization", basic("alice", ALICE_PASSWORD)).statusCode())
        .isEqualTo(401);
    assertThat(get(path, "Authorization", basic("bob", BOB_PASSWORD)).statusCode()).isEqualTo(401);
  }

  @Test
  void adminActionsNeedTheAdminTokenWhileProbesStayOpen() throws Exception {
    assertThat(adminStatus("/metrics", null)).isEqualTo(200);
    assertThat(adminStatus("/healthz", null)).isEqualTo(200);
    assertThat(adminStatus("/readyz", null)).isEqualTo(200);
    String resolve = "/resolve?image=fake/team/app:v1";
    assertThat(adminStatus(resolve, null)).isEqualTo(401);
    assertThat(adminStatus(resolve, "Bearer wrong-token-0123456789")).isEqualTo(401);
    assertThat(adminStatus(resolve, "Bearer " + ADMIN_TOKEN)).isNotIn(401, 403);
  }

  @Test
  void theResolveCommandSendsTheAdminToken() throws Exception {
    Path tokenFile = dir.resolve("admin-token");
    Files.writeString(tokenFile, ADMIN_TOKEN + "\n");
    String admin = "http://127.0.0.1:" + harness.proxy.adminPort();
    java.io.StringWriter err = new java.io.StringWriter();
    picocli.CommandLine without =
        new picocli.CommandLine(new io.transship.server.cli.ResolveCommand());
    java.io.PrintStream stderr = System.err;
    java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      assertThat(without.execute("--admin", admin, "fake/team/app:v1")).isEqualTo(1);
      assertThat(
              new picocli.CommandLine(new io.transship.server.cli.ResolveCommand())
                  .execute(
                      "--admin",
                      admin,
                      "--admin-token-file",
                      tokenFile.toString(),
                      "fake/team/app:v1"))
          .isIn(0, 3);
    } finally {
      System.setErr(stderr);
    }
    assertThat(captured.toString(StandardCharsets.UTF_8)).contains("admin token required");
    assertThat(err.toString()).isEmpty();
  }

  @Test
  void forwardedHeadersCountOnlyFromTrustedProxies() throws Exception {
    String[] forwarded = {
      "X-Forwarded-For", "203.0.113.7",
      "X-Forwarded-Proto", "https",
      "X-Forwarded-Host", "registry.example.com"
    };
    HttpResponse<byte[]> untrusted = get("/v2/", forwarded);
    assertThat(untrusted.headers().firstValue("WWW-Authenticate").orElseThrow())
        .startsWith("Bearer realm=\"http://127.0.0.1:");
    harness.close();
    startProxy(List.of("127.0.0.0/8"));
    HttpResponse<byte[]> trusted = get("/v2/", forwarded);
    assertThat(trusted.headers().firstValue("WWW-Authenticate").orElseThrow())
        .startsWith("Bearer realm=\"https://registry.example.com/token\"");
    // the access line is written after the response went out: wait for it (bounded)
    assertThat(
            awaitLog(e ->
                e.getLoggerName().equals("transship.access")
                    && e.getFormattedMessage().startsWith("203.0.113.7 GET /v2/ 401")))
        .isTrue();
  }

  /** A snapshot of the captured events (the appender appends under its own lock). */
  private List<ILoggingEvent> events() {
    synchronized (logs) {
      return new ArrayList<>(logs.list);
    }
  }

  private long accessLines() {
    return events().stream().filter(e -> e.getLoggerName().equals("transship.access")).count();
  }

  private boolean awaitLog(java.util.function.Predicate<ILoggingEvent> wanted) throws Exception {
    for (int i = 0; i < 200; i++) {
      if (events().stream().anyMatch(wanted)) {
        return true;
      }
      Thread.sleep(50);
    }
    return false;
  }

  private int adminStatus(String path, String authorization) throws Exception {
    var request =
        java.net.http.HttpRequest.newBuilder(
            java.net.URI.create("http://127.0.0.1:" + harness.proxy.adminPort() + path));
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    return harness
        .client
        .send(request.build(), HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  private double metric(String name) throws Exception {
    String scrape = harness.admin("/metrics");
    Matcher m =
        Pattern.compile("^" + Pattern.quote(name) + " (\\S+)$", Pattern.MULTILINE).matcher(scrape);
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }
}
