package dev.saferun.controls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.saferun.internal.controls.ToolSchema;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The tool-argument JSON Schema subset: what it checks, and what it refuses to compile. */
class ToolSchemaTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static JsonNode json(String s) throws Exception {
    return JSON.readTree(s);
  }

  private static String check(String schema, String value) throws Exception {
    return ToolSchema.compile(json(schema), true).firstViolation(json(value));
  }

  @ParameterizedTest(name = "{0} on {1}")
  @CsvSource(delimiter = '|', value = {
      "{\"type\":\"integer\"}                       | 5              | ",
      "{\"type\":\"integer\"}                       | 5.0            | ",
      "{\"type\":\"integer\"}                       | 5.5            | $: expected integer, got number",
      "{\"type\":\"number\"}                        | \"5\"          | $: expected number, got string",
      "{\"type\":[\"string\",\"null\"]}             | null           | ",
      "{\"enum\":[\"usd\",\"eur\"]}                 | \"gbp\"        | $: must be one of [\"usd\",\"eur\"]",
      "{\"const\":3}                                | 3.0            | ",
      "{\"minimum\":1,\"maximum\":10}               | 11             | $: must be <= 10",
      "{\"exclusiveMinimum\":0}                     | 0              | $: must be > 0",
      "{\"multipleOf\":0.01}                        | 1.005          | $: must be a multiple of 0.01",
      "{\"pattern\":\"^cus_\"}                      | \"xcus_1\"     | $: does not match pattern ^cus_",
      "{\"maxLength\":3}                            | \"abcd\"       | $: longer than 3 characters",
      "{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"maxItems\":2} | [\"a\",1] | $[1]: expected string, got integer",
      "{\"uniqueItems\":true}                       | [1,1.0]        | $: items must be unique",
      "{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]} | true | $: matches none of anyOf ($: expected string, got boolean)",
      "{\"oneOf\":[{\"minimum\":0},{\"maximum\":10}]} | 5            | $: must match exactly one of oneOf, matches 2",
      "{\"not\":{\"const\":\"root\"}}               | \"root\"       | $: must not match the 'not' schema",
      "false                                        | 1              | $: no value is allowed here",
  })
  void keywords(String schema, String value, String expected) throws Exception {
    String v = schema.trim().equals("false")
        ? ToolSchema.compile(json("{\"properties\":{\"x\":false}}"), true)
            .firstViolation(json("{\"x\":" + value + "}")).replace("$.x", "$")
        : check(schema, value);
    assertThat(v).isEqualTo(expected == null ? null : expected.trim());
  }

  @Test
  void objectsRequiredAndStrictExtras() throws Exception {
    String schema = "{\"type\":\"object\",\"properties\":{\"amount\":{\"type\":\"integer\"},"
        + "\"meta\":{\"type\":\"object\",\"properties\":{\"note\":{\"type\":\"string\"}}}},"
        + "\"required\":[\"amount\"]}";
    assertThat(check(schema, "{\"amount\":1,\"meta\":{\"note\":\"x\"}}")).isNull();
    assertThat(check(schema, "{}")).isEqualTo("$: missing required property 'amount'");
    assertThat(check(schema, "{\"amount\":1,\"x\":2}")).isEqualTo("$.x: unexpected property 'x'");
    assertThat(check(schema, "{\"amount\":1,\"meta\":{\"admin\":true}}"))
        .isEqualTo("$.meta.admin: unexpected property 'admin'");
    assertThat(ToolSchema.compile(json(schema), false)
        .firstViolation(json("{\"amount\":1,\"x\":2}"))).isNull();
    assertThat(check("{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}}",
        "{\"a\":\"x\",\"b\":2}")).isEqualTo("$.b: expected string, got integer");
  }

  @Test
  void refsToDefinitions() throws Exception {
    String schema = "{\"type\":\"object\",\"properties\":{\"to\":{\"$ref\":\"#/$defs/email\"},"
        + "\"cc\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/email\"}}},"
        + "\"$defs\":{\"email\":{\"type\":\"string\",\"pattern\":\"@example\\\\.com$\"}}}";
    assertThat(check(schema, "{\"to\":\"a@example.com\",\"cc\":[\"b@example.com\"]}")).isNull();
    assertThat(check(schema, "{\"to\":\"a@example.com\",\"cc\":[\"b@evil.test\"]}"))
        .startsWith("$.cc[0]: does not match pattern");
  }

  @Test
  void keywordsItCannotCheckAreRefusedNotIgnored() {
    assertThatThrownBy(() -> ToolSchema.compile(json(
        "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}},"
            + "\"dependentRequired\":{\"a\":[\"b\"]}}"), true))
        .hasMessageContaining("unsupported JSON Schema keyword 'dependentRequired' at #");
    assertThatThrownBy(() -> ToolSchema.compile(json("{\"$ref\":\"https://x/s.json\"}"), true))
        .hasMessageContaining("unsupported $ref");
    assertThatThrownBy(() -> ToolSchema.compile(json("{\"type\":\"decimal\"}"), true))
        .hasMessageContaining("unknown type 'decimal'");
    assertThatThrownBy(() -> ToolSchema.compile(json("{\"pattern\":\"(a)\\\\1\"}"), true))
        .hasMessageContaining("not RE2");
  }
}
