/**
 * TLS material without Netty: {@link io.transship.server.tls.PemKeyMaterial} reads and checks a
 * certificate chain and key from PEM files; the edge ({@code io.transship.server.http}) turns it
 * into an {@code SslContext} and swaps it when {@link io.transship.server.config.FileWatcher}
 * reports a change.
 */
package io.transship.server.tls;
