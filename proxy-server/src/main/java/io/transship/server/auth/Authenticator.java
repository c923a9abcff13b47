package io.transship.server.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.transship.oci.ErrorCode;
import io.transship.oci.RegistryException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks user names and passwords against the {@link UserDirectory}, remembering answers so bcrypt
 * runs once per credential and TTL rather than once per request (a pull is dozens of requests).
 *
 * <p>The cache is bounded (10,000 entries) and expiring; its key is an HMAC-SHA-256 of {@code
 * user:password} under a random per-process key, so the cache holds nothing a memory dump could be
 * brute-forced against offline. Answers are dropped whenever the user directory is reloaded. At
 * most as many bcrypt checks as there are cores run at once; the rest wait (up to 30 s, then {@code
 * 503}), so a flood of wrong passwords cannot take every CPU.
 *
 * <p>Failures are counted ({@code transship_auth_failures_total{reason}}) and logged with user name
 * and client address; the password is never logged.
 */
public final class Authenticator {
  private static final Logger LOG = LoggerFactory.getLogger(Authenticator.class);

  private final UserDirectory users;
  private final Cache<String, Boolean> verified;
  private final Semaphore bcryptSlots =
      new Semaphore(Math.max(1, Runtime.getRuntime().availableProcessors()));
  private final SecretKeySpec cacheKey;
  private final MeterRegistry registry;
  private final Counter passwordChecks;

  public Authenticator(UserDirectory users, Duration cacheTtl, MeterRegistry registry) {
    this.users = users;
    this.registry = registry;
    this.verified = Caffeine.newBuilder().maximumSize(10_000).expireAfterWrite(cacheTtl).build();
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    this.cacheKey = new SecretKeySpec(key, "HmacSHA256");
    this.passwordChecks =
        Counter.builder("transship.auth.password.checks")
            .description("passwords checked against their hash (bcrypt); cached answers excluded")
            .register(registry);
    for (String reason : new String[] {"bad-password", "bad-token", "malformed"}) {
      failures(reason);
    }
  }

  /** Forgets every remembered answer (after the user directory changed). */
  public void forget() {
    verified.invalidateAll();
  }

  /** Re-reads the htpasswd file and forgets remembered answers. */
  public void reloadUsers() {
    users.reload();
    forget();
  }

  /** Whether the password is right; a wrong one is counted and logged. */
  public boolean verify(BasicCredentials credentials, String clientAddress) {
    String key = cacheKey(credentials);
    Boolean known = verified.getIfPresent(key);
    boolean ok = known != null ? known : check(credentials, key);
    if (!ok) {
      failed("bad-password", credentials.user(), clientAddress);
    }
    return ok;
  }

  /** Counts and logs a failed authentication (never the secret). */
  public void failed(String reason, String user, String clientAddress) {
    failures(reason).increment();
    LOG.warn(
        "authentication failed: {} user={} client={}",
        reason,
        BasicCredentials.loggable(user),
        clientAddress);
  }

  private Counter failures(String reason) {
    return Counter.builder("transship.auth.failures")
        .description("failed client authentications by reason")
        .tag("reason", reason)
        .register(registry);
  }

  private boolean check(BasicCredentials credentials, String key) {
    try {
      if (!bcryptSlots.tryAcquire(30, TimeUnit.SECONDS)) {
        throw new RegistryException(ErrorCode.UNAVAILABLE, "too many sign-ins at once; retry");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RegistryException(ErrorCode.UNAVAILABLE, "interrupted");
    }
    try {
      passwordChecks.increment();
      boolean ok = users.verify(credentials.user(), credentials.password());
      verified.put(key, ok);
      return ok;
    } finally {
      bcryptSlots.release();
    }
  }

  private String cacheKey(BasicCredentials credentials) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(cacheKey);
      mac.update(credentials.user().getBytes(StandardCharsets.UTF_8));
      mac.update((byte) ':');
      return HexFormat.of()
          .formatHex(mac.doFinal(credentials.password().getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
