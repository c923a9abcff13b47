package io.transship.server.service;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The one single-flight mechanism: however many callers ask for the same key at once, one flight
 * does the work and every caller shares it. A flight is whatever object represents the work in
 * progress: a {@link CompletableFuture} for tags, manifests and layer conversions ({@link #call},
 * {@link #async}), a {@link BlobDownload} for blobs ({@link #join} / {@link #landed}). A flight
 * leaves the table when it lands, so the next caller after that starts a fresh one: results are
 * shared only while they are being made, never cached here.
 *
 * @param <K> what identifies the work
 * @param <F> the flight
 */
final class SingleFlight<K, F> {
  private final ConcurrentHashMap<K, F> flights = new ConcurrentHashMap<>();

  /**
   * The flight of {@code key} in progress, or a new one from {@code start} (which must be quick).
   */
  F join(K key, Function<K, F> start) {
    return flights.computeIfAbsent(key, start);
  }

  /** The flight of {@code key} in progress, or null. */
  F inFlight(K key) {
    return flights.get(key);
  }

  /** {@code flight} is over: later callers start a new one. */
  void landed(K key, F flight) {
    flights.remove(key, flight);
  }

  /** Flights in progress. */
  int size() {
    return flights.size();
  }

  /** A snapshot of the flights in progress (graceful shutdown waits for them). */
  java.util.List<F> inProgress() {
    return java.util.List.copyOf(flights.values());
  }

  /**
   * Blocking: the first caller runs {@code work} on its own thread; callers arriving meanwhile wait
   * for that result (or exception).
   */
  static <K, V> V call(SingleFlight<K, CompletableFuture<V>> table, K key, Supplier<V> work) {
    CompletableFuture<V> mine = new CompletableFuture<>();
    CompletableFuture<V> flight = table.join(key, k -> mine);
    if (flight == mine) {
      run(table, key, mine, work);
    }
    return await(flight);
  }

  /** Joins the flight of {@code key}, or starts {@code work} on {@code executor}. */
  static <K, V> CompletableFuture<V> async(
      SingleFlight<K, CompletableFuture<V>> table, K key, Executor executor, Supplier<V> work) {
    CompletableFuture<V> mine = new CompletableFuture<>();
    CompletableFuture<V> flight = table.join(key, k -> mine);
    if (flight == mine) {
      try {
        executor.execute(() -> run(table, key, mine, work));
      } catch (RejectedExecutionException e) {
        table.landed(key, mine);
        mine.completeExceptionally(e);
      }
    }
    return flight;
  }

  private static <K, V> void run(
      SingleFlight<K, CompletableFuture<V>> table,
      K key,
      CompletableFuture<V> flight,
      Supplier<V> work) {
    V result;
    try {
      result = work.get();
    } catch (Throwable e) {
      table.landed(key, flight);
      flight.completeExceptionally(e);
      return;
    }
    table.landed(key, flight);
    flight.complete(result);
  }

  /** The result of {@code flight}, its failure rethrown as it was thrown (unchecked). */
  static <V> V await(CompletableFuture<V> flight) {
    try {
      return flight.join();
    } catch (CompletionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException runtime) {
        throw runtime;
      }
      if (cause instanceof Error error) {
        throw error;
      }
      throw e;
    }
  }
}
