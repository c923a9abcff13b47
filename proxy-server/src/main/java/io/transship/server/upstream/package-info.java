/**
 * The client side: talking to upstream registries with the JDK's {@link java.net.http.HttpClient}
 * (pooled connections, HTTP/2 on TLS). {@link io.transship.server.upstream.RegistryClient} sends
 * one request with retries, redirects and authentication; {@link
 * io.transship.server.upstream.UpstreamAuth} runs the token flow of the distribution "Token
 * Authentication Specification" (challenge, token, cache per scope, refresh once on 401).
 */
package io.transship.server.upstream;
