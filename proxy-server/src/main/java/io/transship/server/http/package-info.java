/**
 * The HTTP edge, and the only package that uses Netty (an architecture test enforces it). {@link
 * io.transship.server.http.HttpServer} binds the listeners; {@link
 * io.transship.server.http.RegistryHandler} turns each request into a routed {@link
 * io.transship.server.routing.RegistryRequest}, runs the service on a virtual thread (never on the
 * event loop), and {@link io.transship.server.http.ReplyWriter} writes the reply: zero-copy {@code
 * FileRegion}s for stored files on plain HTTP, streamed chunks with backpressure otherwise.
 */
package io.transship.server.http;
