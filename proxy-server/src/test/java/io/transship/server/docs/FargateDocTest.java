package io.transship.server.docs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.transship.oci.Digest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/fargate.md: every JSON block parses, the task definition has what ECS requires of a Fargate
 * task pulling a private registry, the secret has the shape ECS reads, and the execution role
 * grants exactly what fetching it needs.
 */
class FargateDocTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static List<JsonNode> jsonBlocks() throws Exception {
    String doc = Files.readString(Path.of("..", "docs", "fargate.md"));
    Matcher m = Pattern.compile("```json\\n(.*?)```", Pattern.DOTALL).matcher(doc);
    List<JsonNode> blocks = new ArrayList<>();
    while (m.find()) {
      blocks.add(JSON.readTree(m.group(1)));
    }
    return blocks;
  }

  private static JsonNode block(String field) throws Exception {
    return jsonBlocks().stream()
        .filter(b -> b.has(field))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no JSON block with " + field));
  }

  @Test
  void theTaskDefinitionHasTheFieldsEcsRequiresForFargate() throws Exception {
    JsonNode task = block("containerDefinitions");
    assertThat(task.path("family").asText()).matches("[A-Za-z0-9_-]{1,255}");
    assertThat(task.path("requiresCompatibilities")).anyMatch(n -> n.asText().equals("FARGATE"));
    assertThat(task.path("networkMode").asText()).isEqualTo("awsvpc"); // the only Fargate mode
    // Fargate needs task-level cpu and memory as strings, in a supported combination
    assertThat(task.path("cpu").isTextual()).isTrue();
    assertThat(task.path("memory").isTextual()).isTrue();
    assertThat(List.of("256", "512", "1024", "2048", "4096", "8192", "16384"))
        .contains(task.path("cpu").asText());
    assertThat(task.path("executionRoleArn").asText()).matches("arn:aws:iam::\\d{12}:role/.+");
    JsonNode container = task.path("containerDefinitions").path(0);
    assertThat(container.path("name").asText()).isNotEmpty();
    assertThat(container.path("essential").asBoolean()).isTrue();
    String image = container.path("image").asText();
    // <proxy host>/<upstream alias>/<repository>@<digest>, pinned as transship resolve prints
    Matcher ref = Pattern.compile("([^/]+)/([^/]+)/(.+)@(sha256:[0-9a-f]{64})").matcher(image);
    assertThat(ref.matches()).as(image).isTrue();
    assertThat(Digest.parse(ref.group(4)).toString()).isEqualTo(ref.group(4));
    String secret = container.path("repositoryCredentials").path("credentialsParameter").asText();
    assertThat(secret).matches("arn:aws:secretsmanager:[a-z0-9-]+:\\d{12}:secret:.+");
    // the awslogs driver needs group, region and stream prefix on Fargate
    JsonNode logs = container.path("logConfiguration");
    if (!logs.isMissingNode()) {
      assertThat(logs.path("options").has("awslogs-group")).isTrue();
      assertThat(logs.path("options").has("awslogs-region")).isTrue();
      assertThat(logs.path("options").has("awslogs-stream-prefix")).isTrue();
    }
  }

  @Test
  void theSecretHasUsernameAndPassword() throws Exception {
    JsonNode secret = block("username");
    assertThat(secret.path("username").isTextual()).isTrue();
    assertThat(secret.path("password").isTextual()).isTrue();
  }

  @Test
  void theExecutionRoleMayReadTheSecretNamedInTheTaskAndDecryptIt() throws Exception {
    JsonNode policy = block("Statement");
    String secret =
        block("containerDefinitions")
            .path("containerDefinitions")
            .path(0)
            .path("repositoryCredentials")
            .path("credentialsParameter")
            .asText();
    List<String> actions = new ArrayList<>();
    List<String> resources = new ArrayList<>();
    policy
        .path("Statement")
        .forEach(s -> {
          assertThat(s.path("Effect").asText()).isEqualTo("Allow");
          s.path("Action").forEach(a -> actions.add(a.asText()));
          s.path("Resource").forEach(r -> resources.add(r.asText()));
        });
    assertThat(actions).containsExactlyInAnyOrder("secretsmanager:GetSecretValue", "kms:Decrypt");
    assertThat(resources).contains(secret);
  }
}
