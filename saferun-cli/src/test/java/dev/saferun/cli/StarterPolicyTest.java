package dev.saferun.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.saferun.cli.StarterPolicy.Tier;
import org.junit.jupiter.api.Test;

/** How {@code saferun init} puts tools in tiers and invents example arguments. */
class StarterPolicyTest {
  static final ObjectMapper JSON = new ObjectMapper();

  static StarterPolicy.Tool tool(String json) {
    try {
      return StarterPolicy.classify(JSON.readTree(json));
    } catch (Exception e) {
      throw new IllegalArgumentException(e);
    }
  }

  static Tier tier(String name) {
    return tool("{\"name\": \"" + name + "\"}").tier();
  }

  static Tier tier(String name, String annotations) {
    return tool("{\"name\": \"" + name + "\", \"annotations\": " + annotations + "}").tier();
  }

  @Test
  void namesGiveTheTierWhenThereAreNoAnnotations() {
    assertThat(tier("list_charges")).as("a read verb wins over a money word").isEqualTo(Tier.READ);
    assertThat(tier("getInvoice")).as("camelCase").isEqualTo(Tier.READ);
    assertThat(tier("create_refund")).isEqualTo(Tier.FINANCIAL);
    assertThat(tier("transferFunds")).isEqualTo(Tier.FINANCIAL);
    assertThat(tier("delete_customer")).isEqualTo(Tier.DESTRUCTIVE);
    assertThat(tier("dropTable")).isEqualTo(Tier.DESTRUCTIVE);
    assertThat(tier("list_and_purge_cache")).as("destructive beats read").isEqualTo(
        Tier.DESTRUCTIVE);
    assertThat(tier("get_or_create_user")).as("a write verb beside a read verb")
        .isEqualTo(Tier.WRITE);
    assertThat(tier("update_user")).isEqualTo(Tier.WRITE);
    assertThat(tier("parse_payload")).as("payload is not pay").isEqualTo(Tier.WRITE);
    assertThat(tier("list_deleted_items")).as("a past participle is not a delete")
        .isEqualTo(Tier.READ);
  }

  @Test
  void annotationsAndNamesTogetherGiveTheMoreRestrictiveTier() {
    assertThat(tier("sync", "{\"readOnlyHint\": true}")).isEqualTo(Tier.READ);
    assertThat(tier("sync", "{\"destructiveHint\": true}")).isEqualTo(Tier.DESTRUCTIVE);
    assertThat(tier("get_thing", "{\"destructiveHint\": true}")).isEqualTo(Tier.DESTRUCTIVE);
    assertThat(tier("sync", "{\"readOnlyHint\": true, \"destructiveHint\": true}"))
        .as("destructiveHint only means something when not read-only").isEqualTo(Tier.READ);
    assertThat(tool("{\"name\": \"create_refund\", \"annotations\": {\"readOnlyHint\": true}}"))
        .extracting(StarterPolicy.Tool::tier, StarterPolicy.Tool::why)
        .containsExactly(Tier.FINANCIAL, "name: refund (overrides readOnlyHint)");
    assertThat(tier("remove_label", "{\"destructiveHint\": false}"))
        .isEqualTo(Tier.DESTRUCTIVE);
    assertThat(tier("sync", "{\"idempotentHint\": true, \"openWorldHint\": true}"))
        .as("these hints do not change the tier").isEqualTo(Tier.WRITE);
  }

  @Test
  void descriptionsCountOnlyWhenTheNameSaysNothing() {
    assertThat(tool("{\"name\": \"settle\", \"description\": \"Issues a refund to the card\"}")
        .tier()).isEqualTo(Tier.FINANCIAL);
    assertThat(tool("{\"name\": \"cleanup\", \"description\": \"Permanently deletes old rows\"}")
        .why()).isEqualTo("description: deletes");
    assertThat(tool("{\"name\": \"get_bill\", \"description\": \"Deletes nothing, pays"
        + " nothing\"}").tier()).isEqualTo(Tier.READ);
    assertThat(tool("{\"name\": \"sync\", \"description\": \"Reads a file\"}").tier())
        .as("a description never makes a tool read-only").isEqualTo(Tier.WRITE);
  }

  @Test
  void exampleArgumentsFillTheRequiredPropertiesFromTheSchema() throws Exception {
    JsonNode schema = JSON.readTree("""
        {"type": "object",
         "required": ["s", "n", "min", "b", "a", "e", "c", "d", "nullable", "o", "untyped"],
         "properties": {
           "s": {"type": "string"}, "n": {"type": "integer"},
           "min": {"type": "number", "minimum": 5}, "b": {"type": "boolean"},
           "a": {"type": "array"}, "e": {"type": "string", "enum": ["usd", "eur"]},
           "c": {"const": 3}, "d": {"type": "string", "default": "yes"},
           "nullable": {"type": ["null", "integer"]},
           "o": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
           "optional": {"type": "string"}
         }}
        """);

    assertThat(StarterPolicy.exampleArgs(schema)).isEqualTo("{s: example, \"n\": 1, min: 5,"
        + " b: false, a: [], e: usd, c: 3, d: \"yes\", nullable: 1, o: {id: example},"
        + " untyped: example}");
    assertThat(StarterPolicy.exampleArgs(JSON.missingNode())).isEqualTo("{}");
  }

  @Test
  void scalarsArePlainOnlyWhenUnambiguous() {
    assertThat(StarterPolicy.scalar("create_refund")).isEqualTo("create_refund");
    assertThat(StarterPolicy.scalar("a.b-c/d")).isEqualTo("a.b-c/d");
    assertThat(StarterPolicy.scalar("No")).isEqualTo("\"No\"");
    assertThat(StarterPolicy.scalar("1abc")).isEqualTo("\"1abc\"");
    assertThat(StarterPolicy.scalar("a: b")).isEqualTo("\"a: b\"");
    assertThat(StarterPolicy.scalar("q\"\\\n\u2028")).isEqualTo("\"q\\\"\\\\\\u000a\\u2028\"");
    assertThat(StarterPolicy.oneLine(" a\n\tb\u2028c\u0085 ")).isEqualTo("a b c");
  }
}
