package io.transship.storage;

import java.net.URI;
import java.time.Duration;
import java.util.Optional;

/**
 * Optional capability of stores that can hand out time-limited URLs through which a client fetches
 * an object directly from the store, without credentials (S3 presigned URLs). Lets the HTTP edge
 * redirect a blob request instead of streaming the bytes itself.
 */
public interface Presigning {

  /**
   * A URL that answers a plain HTTP {@code GET} (ranges included) with the object under {@code key}
   * until {@code expiry} has passed, or empty when the store cannot presign right now (for example
   * when it has no credentials to sign with); the caller then serves the object itself. Does not
   * check that the object exists.
   *
   * @param expiry how long the URL stays valid; null for the store's default
   * @throws IllegalArgumentException for an invalid key or an expiry the store cannot honour
   */
  Optional<URI> presignGet(String key, Duration expiry);
}
