package dev.saferun;

import static dev.saferun.Fixtures.call;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** SPEC §3: every operator with its exact type rules, on args, context and missing paths. */
class OperatorsTest {

  /** Allowed iff the single condition holds. */
  private static boolean holds(String path, String op, String valueYaml, String argsJson) {
    String yaml = "version: \"1\"\n"
        + "tools:\n"
        + "  t:\n"
        + "    rules:\n"
        + "      - name: c\n"
        + "        conditions:\n"
        + "          - path: " + path + "\n"
        + "            op: " + op + "\n"
        + "            value: " + valueYaml + "\n";
    SafeRun s = Fixtures.safeRun(new ManualClock(), yaml);
    Decision d = call(s, "t", argsJson, CallContext.of("user", "u1", "env", "prod"));
    assertThat(d.outcome()).isIn(Decision.Outcome.ALLOW, Decision.Outcome.DENY);
    if (d.isDenied()) {
      assertThat(d.rule()).isEqualTo("c");
      assertThat(d.message()).isEqualTo("Denied by rule \"c\"");
    }
    return d.isAllowed();
  }

  @ParameterizedTest(name = "{0} {1} {2} on {3} -> {4}")
  @CsvSource(delimiter = '|', value = {
      // eq: numbers numerically, never across types
      "args.a | eq | 50       | {\"a\":50}       | true",
      "args.a | eq | 50       | {\"a\":50.0}     | true",
      "args.a | eq | 50.0     | {\"a\":50}       | true",
      "args.a | eq | 50       | {\"a\":\"50\"}   | false",
      "args.a | eq | '\"50\"' | {\"a\":50}       | false",
      "args.a | eq | true     | {\"a\":true}     | true",
      "args.a | eq | '\"true\"' | {\"a\":true}   | false",
      "args.a | eq | x        | {\"a\":\"x\"}    | true",
      "args.a | eq | x        | {\"a\":\"X\"}    | false",
      "args.a | eq | x        | {}               | false",
      "args.a | eq | x        | {\"a\":null}     | false",
      "args.a | eq | 1        | {\"a\":[1]}      | false",
      "args.a | eq | 0.1      | {\"a\":0.10}     | true",
      "args.a | eq | 12345678901234567890.5 | {\"a\":12345678901234567890.5} | true",
      // neq: false on missing
      "args.a | neq | 5       | {\"a\":6}        | true",
      "args.a | neq | 5       | {\"a\":5}        | false",
      "args.a | neq | 5       | {\"a\":\"5\"}    | true",
      "args.a | neq | 5       | {}               | false",
      "args.a | neq | 5       | {\"a\":null}     | false",
      // in / not_in
      "args.c | in | [usd, eur]   | {\"c\":\"usd\"}  | true",
      "args.c | in | [usd, eur]   | {\"c\":\"gbp\"}  | false",
      "args.c | in | [1, 2]       | {\"c\":2.0}      | true",
      "args.c | in | [1, 2]       | {\"c\":\"1\"}    | false",
      "args.c | in | [usd]        | {}               | false",
      "args.c | not_in | [admin]  | {\"c\":\"bob\"}  | true",
      "args.c | not_in | [admin]  | {\"c\":\"admin\"} | false",
      "args.c | not_in | [admin]  | {}               | false",
      // numeric comparisons: only JSON numbers
      "args.n | lt  | 100  | {\"n\":99.999}   | true",
      "args.n | lt  | 100  | {\"n\":100}      | false",
      "args.n | lte | 100  | {\"n\":100}      | true",
      "args.n | lte | 100  | {\"n\":\"100\"}  | false",
      "args.n | gt  | 0    | {\"n\":0.000001} | true",
      "args.n | gt  | 0    | {\"n\":0}        | false",
      "args.n | gte | -5   | {\"n\":-5}       | true",
      "args.n | gte | 1    | {\"n\":true}     | false",
      "args.n | lt  | 10   | {}               | false",
      "args.n | lt  | 10   | {\"n\":null}     | false",
      "args.n | lte | 1e3  | {\"n\":1000}     | true",
      "args.n | lt  | 9007199254740993 | {\"n\":9007199254740992} | true",
      // regex: strings only, anywhere unless anchored
      "args.b | regex | '\"^feat/\"'  | {\"b\":\"feat/x\"}  | true",
      "args.b | regex | '\"^feat/\"'  | {\"b\":\"x/feat/\"} | false",
      "args.b | regex | 'ab'          | {\"b\":\"xxabyy\"}  | true",
      "args.b | regex | '\"^[0-9]+$\"' | {\"b\":123}       | false",
      "args.b | regex | 'a'           | {}                  | false",
      // contains: substring or list element
      "args.s | contains | test | {\"s\":\"a test b\"}   | true",
      "args.s | contains | test | {\"s\":\"a tes b\"}    | false",
      "args.s | contains | x    | {\"s\":[\"x\",\"y\"]}  | true",
      "args.s | contains | 2    | {\"s\":[1,2.0]}        | true",
      "args.s | contains | 2    | {\"s\":[\"2\"]}        | false",
      "args.s | contains | 5    | {\"s\":\"a5\"}         | false",
      "args.s | contains | x    | {}                     | false",
      // exists
      "args.e | exists | true   | {\"e\":0}        | true",
      "args.e | exists | true   | {\"e\":null}     | false",
      "args.e | exists | true   | {}               | false",
      "args.e | exists | false  | {}               | true",
      "args.e | exists | false  | {\"e\":null}     | true",
      "args.e | exists | false  | {\"e\":\"\"}     | false",
      // nested paths and [n] indexing
      "args.m.k      | eq | v   | {\"m\":{\"k\":\"v\"}}              | true",
      "args.m.k      | eq | v   | {\"m\":\"k\"}                      | false",
      "args.items[0].sku | eq | A1 | {\"items\":[{\"sku\":\"A1\"}]}   | true",
      "args.items[1].sku | eq | A1 | {\"items\":[{\"sku\":\"A1\"}]}   | false",
      "args.items[0] | eq | 7   | {\"items\":{\"0\":7}}              | false",
      "args.items.0  | eq | 7   | {\"items\":{\"0\":7}}              | true",
      "args.items.0  | eq | 7   | {\"items\":[7]}                    | false",
      "args.m[0][1]  | eq | 3   | {\"m\":[[2,3]]}                    | true",
      // context attributes are text
      "context.user  | eq | u1  | {}   | true",
      "context.user  | in | [u2, u1] | {} | true",
      "context.env   | regex | '\"^pro\"' | {} | true",
      "context.team  | exists | false | {} | true",
      "context.team  | eq | x   | {}   | false",
  })
  void operatorSemantics(String path, String op, String value, String args, boolean expected) {
    assertThat(holds(path, op, value, args)).isEqualTo(expected);
  }
}
