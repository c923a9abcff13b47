package io.transship.server.http;

import java.util.List;
import java.util.function.Consumer;

/** What the admin port serves, implemented outside the edge (see {@code Transship}). */
public interface AdminEndpoints {
  /** Prometheus text exposition. */
  String scrape();

  /** Empty when ready to serve, else why not. */
  String notReadyReason();

  /** Empty when fully working, else what is degraded (still ready: it serves pass-through). */
  default String degradedReason() {
    return "";
  }

  /** JSON describing the converted digest of {@code image} in {@code format}. */
  String resolve(String image, String format);

  /** Converts {@code image}, sending JSON progress lines to {@code progress}. */
  void warm(String image, String format, List<String> platforms, Consumer<String> progress);
}
