package dev.whack.node.engine.expr;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.engine.event.Days;
import dev.whack.node.engine.json.ProfileJson;
import dev.whack.node.engine.json.UpdateJson;
import dev.whack.node.engine.profile.Dictionaries;
import dev.whack.node.engine.profile.ProfileLimits;
import dev.whack.node.engine.profile.ProfileView;
import dev.whack.node.engine.profile.ProfileWriter;
import dev.whack.node.engine.profile.StripeNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ExpressionTest {
  private static final long NOW = 1_795_168_800_000L; // 2026-11-20T10:00:00Z
  private final Dictionaries dict = Dictionaries.create(1000);
  private final ExpressionCompiler compiler =
      new ExpressionCompiler(dict.attributes(), dict.events(), 60);
  private final ProfileWriter writer = new ProfileWriter(dict, 60, ProfileLimits.DEFAULTS);
  private final StripeNames stripe = new StripeNames();
  private final EvalContext ctx = new EvalContext();

  /** A profile, published: it keeps its names. */
  private byte[] profile(String json) {
    byte[] blob =
        writer.put("k".getBytes(UTF_8), ProfileJson.parse(json.getBytes(UTF_8)), NOW, null, stripe);
    writer.commit(null);
    return blob;
  }

  private boolean eval(String expr, byte[] blob, long now) {
    CompiledExpression e = compiler.compile(expr, true);
    return e.test(ctx.bind(new ProfileView().bind(blob), now));
  }

  private static final String DANE =
      "{\"country\":\"DK\",\"age\":31,\"score\":2.5,\"vip\":true,"
          + "\"tags\":[\"vip\",\"newsletter\"],\"last_seen\":\"2026-11-18T10:00:00Z\"}";

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "country == \"DK\"|true",
        "country != \"DK\"|false",
        "country == \"SE\" or age >= 31|true",
        "age > 30 and age < 32 and score == 2.5|true",
        "age == 31.0|true",
        "score > 2|true",
        "vip|true",
        "vip == false|false",
        "not vip|false",
        "\"vip\" in tags|true",
        "\"gold\" in tags|false",
        "\"gold\" not in tags|true",
        "country in [\"SE\", \"DK\"]|true",
        "age in [1, 2, 31]|true",
        "exists(age) and not exists(missing)|true",
        "missing == 1|false",
        "missing != 1|false",
        "not (missing == 1)|true",
        "country > \"DA\" and country < \"DL\"|true",
        "last_seen > now() - 7d|true",
        "last_seen > now() - 1d|false",
        "last_seen < 2026-11-19|true",
        "last_seen == 2026-11-18T10:00:00Z|true",
        "last_seen >= 2026-11-18T12:00:00+02:00|true",
        "`country` == \"DK\"|true",
        "country == 31|false",
        "true and not false|true",
        "(country == \"DK\" or age < 3) and (vip or score > 100)|true",
      })
  void shouldEvaluate(String expr, boolean expected) {
    assertEquals(expected, eval(expr, profile(DANE), NOW), expr);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "country ==|10|expected a value",
        "country = \"DK\"|8|use '=='",
        "(age > 1|8|')'",
        "age > 1 age|8|expected an operator",
        "count(buy)|9|','",
        "count(buy, 12h) > 1|11|whole number of days",
        "count(buy, 90d) > 1|11|at most the retention",
        "age > 30d|6|duration",
        "42|0|expected a condition",
        "\"DK\" == 3|5|cannot compare",
        "vip < true|4|booleans",
        "\"x\" in 3|7|'in' takes a list",
        "foo(1)|0|unknown function",
        "\"open|0|unterminated string",
        "2026-13-01 < now()|0|invalid timestamp",
        "x == 99999999999999999999|5|64 bits",
        "a @ b|2|unexpected character",
        "|0|empty expression",
        "last_seen > now() - 7|20|only a duration",
        "[1] == x|0|a list is only allowed",
        "now() in [2026-01-01]|0|now() cannot be looked up",
      })
  void shouldRejectWithPositionAndReason(String expr, int position, String reason) {
    String source = expr == null ? "" : expr;
    ExpressionException e =
        assertThrows(ExpressionException.class, () -> compiler.compile(source, true));
    assertEquals(position, e.position(), e.getMessage());
    assertTrue(e.reason().contains(reason), e.getMessage());
  }

  @Test
  void shouldRejectDeepNestingInsteadOfOverflowingTheStack() {
    String deep = "(".repeat(10_00) + "a" + ")".repeat(10_00);
    assertThrows(ExpressionException.class, () -> compiler.compile(deep, true));
    String nots = "not ".repeat(2000) + "a";
    assertThrows(ExpressionException.class, () -> compiler.compile(nots, true));
  }

  @Test
  void shouldReportWhatItReadsAndWhetherTimeMatters() {
    CompiledExpression e = compiler.compile("country == \"DK\" and count(buy, 30d) >= 3", true);
    assertEquals(1, e.attributes().length);
    assertEquals(1, e.events().length);
    assertTrue(e.timeDependent());
    assertFalse(compiler.compile("\"vip\" in tags", true).timeDependent());
  }

  @Test
  void shouldSayUntilWhenARecencyAnswerHolds() {
    byte[] blob = profile(DANE);
    CompiledExpression e = compiler.compile("last_seen > now() - 7d", true);
    assertTrue(e.test(ctx.bind(new ProfileView().bind(blob), NOW)));
    long flip = 1_795_168_800_000L - 2 * Days.MILLIS_PER_DAY + 7 * Days.MILLIS_PER_DAY;
    assertEquals(flip, ctx.validUntil());
    assertTrue(e.test(ctx.bind(new ProfileView().bind(blob), flip - 1)));
    assertFalse(e.test(ctx.bind(new ProfileView().bind(blob), flip)));
    assertEquals(Long.MAX_VALUE, ctx.validUntil());
  }

  @Test
  void shouldCountWindowsAndSayWhichMidnightChangesThem() {
    byte[] blob =
        writer.apply(
            "k".getBytes(UTF_8),
            null,
            UpdateJson.parse(
                ("{\"events\":["
                        + "{\"name\":\"buy\",\"value\":10.0,\"time\":\"2026-11-10T10:00:00Z\"},"
                        + "{\"name\":\"buy\",\"value\":20.0,\"time\":\"2026-11-20T09:00:00Z\"},"
                        + "{\"name\":\"buy\",\"value\":30.0,\"time\":\"2026-11-20T09:30:00Z\"}]}")
                    .getBytes(UTF_8)),
            NOW,
            stripe);
    writer.commit(null);
    assertTrue(
        eval(
            "count(buy, 30d) == 3 and sum(buy, 30d) == 60.0 and avg(buy, 30d) == 20.0", blob, NOW));
    assertTrue(eval("count(buy, 7d) == 2 and variance(buy, 7d) == 25.0", blob, NOW));
    CompiledExpression e = compiler.compile("count(buy, 11d) >= 3", true);
    assertTrue(e.test(ctx.bind(new ProfileView().bind(blob), NOW)));
    // The 2026-11-10 bucket leaves an 11-day window at the start of 2026-11-21.
    assertEquals(Days.startOf(Days.dayOf(NOW) + 1), ctx.validUntil());
    assertTrue(eval("decayed(buy, 10d) > 2.4 and decayed(buy, 10d) < 2.6", blob, NOW));
    assertTrue(eval("count(nothing, 7d) == 0 and not (avg(nothing, 7d) > 0)", blob, NOW));
  }

  private byte[] buys(int n) {
    StringBuilder events = new StringBuilder("{\"events\":[");
    for (int i = 0; i < n; i++) {
      events.append(i == 0 ? "" : ",").append("{\"name\":\"buy\",\"value\":10.0}");
    }
    byte[] blob =
        writer.apply(
            "k".getBytes(UTF_8),
            null,
            UpdateJson.parse(events.append("]}").toString().getBytes(UTF_8)),
            NOW,
            stripe);
    writer.commit(null);
    return blob;
  }

  /**
   * A context keeps the series it decoded for the profile it evaluates: a second profile evaluated
   * on the same context, through a new view (whose bind stamp equals the first view's) or through
   * the same view rebound without rebinding the context, must read its own series.
   */
  @Test
  void shouldReadEachProfilesOwnSeriesWhenOneContextEvaluatesProfilesInTurn() {
    byte[] three = buys(3);
    byte[] one = buys(1);
    CompiledExpression e = compiler.compile("count(buy, 30d) == 3 and sum(buy, 7d) == 30.0", true);
    assertTrue(e.test(ctx.bind(new ProfileView().bind(three), NOW)));
    assertFalse(e.test(ctx.bind(new ProfileView().bind(one), NOW)));
    assertTrue(e.test(ctx.bind(new ProfileView().bind(three), NOW)));
    ProfileView view = new ProfileView().bind(one);
    ctx.bind(view, NOW);
    assertFalse(e.test(ctx));
    view.bind(three);
    assertTrue(e.test(ctx));
    view.bind(one);
    assertFalse(e.test(ctx));
  }
}
