/**
 * transship's proxy server. {@link io.transship.server.Main} is the command line; {@link
 * io.transship.server.Transship} wires the parts with plain constructors: config → upstream clients
 * → storage → services → HTTP edge. Packages: {@code config}, {@code routing}, {@code upstream},
 * {@code service}, {@code reply} (Netty-free) and {@code http} (the only Netty code).
 */
package io.transship.server;
