/**
 * Turns a request line into a typed {@link io.transship.server.routing.RegistryRequest}: which
 * endpoint of the OCI distribution spec v1.1 (section "API", endpoints end-1 to end-3, end-8a and
 * end-12a), which upstream and which repository. Pure and Netty-free; start at {@link
 * io.transship.server.routing.RequestRouter}.
 */
package io.transship.server.routing;
