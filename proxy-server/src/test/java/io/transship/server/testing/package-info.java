/**
 * Test fixtures for transship's proxy-server tests.
 *
 * <p>{@link io.transship.server.testing.FakeUpstream} is an in-process fake upstream registry (the
 * pull side of the OCI distribution spec v1.1) built on the JDK's {@code com.sun.net.httpserver},
 * never on Netty, so that what is under test and what it talks to share no HTTP code. It records
 * every request and injects faults (error statuses, truncated or corrupted bodies, delays, an
 * unreachable port, bearer and basic authentication, cross-host blob redirects), which lets
 * component tests prove how the proxy behaves against a misbehaving upstream.
 */
package io.transship.server.testing;
