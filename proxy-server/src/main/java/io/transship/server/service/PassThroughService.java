package io.transship.server.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.transship.oci.ErrorCode;
import io.transship.oci.MediaTypes;
import io.transship.oci.RegistryException;
import io.transship.server.reply.Body;
import io.transship.server.reply.Reply;
import io.transship.server.routing.RegistryRequest;
import io.transship.server.upstream.RegistryClient;
import io.transship.server.upstream.UpstreamResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Endpoints relayed to the upstream without caching: {@code tags/list} (with {@code n}, {@code
 * last}, and the {@code Link} header rewritten to the client's path, distribution spec "Listing
 * Tags") and {@code referrers} (the upstream's index as-is; its 404 when it lacks the API, so
 * clients fall back to the referrers tag schema).
 */
public final class PassThroughService {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_LIST_BYTES = 16 * 1024 * 1024;

  private final Function<String, RegistryClient> clients;

  PassThroughService(Function<String, RegistryClient> clients) {
    this.clients = clients;
  }

  Reply tags(RegistryRequest.TagsList request) {
    String alias = request.route().upstream().alias();
    try (UpstreamResponse response =
        clients.apply(alias).tags(request.route().repository(), request.n(), request.last())) {
      if (!response.isSuccess()) {
        throw UpstreamErrors.fromResponse(response, alias, ErrorCode.NAME_UNKNOWN);
      }
      JsonNode body = JSON.readTree(response.readBody(MAX_LIST_BYTES));
      if (!(body instanceof ObjectNode object)) {
        throw new RegistryException(ErrorCode.UPSTREAM_ERROR, "upstream tag list is not JSON");
      }
      object.put("name", request.route().clientName());
      Map<String, String> headers = new LinkedHashMap<>();
      headers.put("Content-Type", "application/json");
      String link = response.header("Link");
      if (link != null) {
        headers.put("Link", rewriteLink(link, request));
      }
      return new Reply(
          200, headers, new Body.Bytes(object.toString().getBytes(StandardCharsets.UTF_8)));
    } catch (IOException e) {
      throw UpstreamErrors.fromIo(e, alias);
    }
  }

  /** Points the upstream's next-page link at this proxy's path for the repository. */
  static String rewriteLink(String link, RegistryRequest.TagsList request) {
    String upstreamPath = "/v2/" + request.route().repository() + "/tags/list";
    String clientPath = "/v2/" + request.route().clientName() + "/tags/list";
    int open = link.indexOf('<');
    int close = link.indexOf('>', open + 1);
    int at = link.indexOf(upstreamPath, open + 1);
    if (open < 0 || close < 0 || at < 0 || at > close) {
      return link;
    }
    return "<" + clientPath + link.substring(at + upstreamPath.length());
  }

  Reply referrers(RegistryRequest.Referrers request) {
    String alias = request.route().upstream().alias();
    try (UpstreamResponse response =
        clients
            .apply(alias)
            .referrers(request.route().repository(), request.digest(), request.artifactType())) {
      if (!response.isSuccess()) {
        throw UpstreamErrors.fromResponse(response, alias, ErrorCode.MANIFEST_UNKNOWN);
      }
      byte[] body = response.readBody(MAX_LIST_BYTES);
      Map<String, String> headers = new LinkedHashMap<>();
      headers.put("Content-Type", MediaTypes.OCI_INDEX);
      String filters = response.header("OCI-Filters-Applied");
      if (filters != null) {
        headers.put("OCI-Filters-Applied", filters);
      }
      return new Reply(200, headers, new Body.Bytes(body));
    } catch (IOException e) {
      throw UpstreamErrors.fromIo(e, alias);
    }
  }
}
