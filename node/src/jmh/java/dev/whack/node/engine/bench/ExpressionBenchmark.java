package dev.whack.node.engine.bench;

import dev.whack.node.engine.expr.CompiledExpression;
import dev.whack.node.engine.expr.EvalContext;
import dev.whack.node.engine.expr.ExpressionCompiler;
import dev.whack.node.engine.profile.Dictionaries;
import dev.whack.node.engine.profile.ProfileLimits;
import dev.whack.node.engine.profile.ProfileView;
import dev.whack.node.engine.profile.ProfileWriter;
import dev.whack.node.engine.profile.StripeNames;
import dev.whack.proto.Attribute;
import dev.whack.proto.Profile;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Evaluation of compiled expressions over a compact 20-attribute profile, with the boxed HashMap
 * lookup it replaces as a baseline.
 *
 * <pre>scripts/bench-engine ExpressionBenchmark</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class ExpressionBenchmark {
  ProfileView view;
  EvalContext ctx;
  byte[] blob;
  long now;
  CompiledExpression equals;
  CompiledExpression inSet;
  CompiledExpression window;
  CompiledExpression recency;
  CompiledExpression complex;
  Map<String, Object> boxed;

  @Setup
  public void setup() {
    now = System.currentTimeMillis();
    Dictionaries dict = Dictionaries.create(1000);
    ExpressionCompiler compiler = new ExpressionCompiler(dict.attributes(), dict.events(), 60);
    equals = compiler.compile("country == \"DK\"", true);
    inSet = compiler.compile("\"tag3\" in tags", true);
    window = compiler.compile("count(view, 30d) >= 3", true);
    recency = compiler.compile("last_seen > now() - 7d", true);
    complex =
        compiler.compile(
            "country == \"DK\" and count(buy, 30d) >= 1 and last_seen > "
                + "now() - 7d and \"tag3\" in tags",
            true);
    Profile p =
        BenchData.profile(new SplittableRandom(7), now).toBuilder()
            .setAttributes(
                0,
                Attribute.newBuilder()
                    .setName("country")
                    .setValue(dev.whack.proto.Value.newBuilder().setStringValue("DK")))
            .build();
    ProfileWriter writer = new ProfileWriter(dict, 60, ProfileLimits.DEFAULTS);
    blob = writer.put("user:1".getBytes(StandardCharsets.UTF_8), p, now, null, new StripeNames());
    writer.commit(null);
    view = new ProfileView().bind(blob);
    ctx = new EvalContext().bind(view, now);
    boxed = new HashMap<>();
    for (Attribute a : p.getAttributesList()) {
      boxed.put(
          a.getName(),
          a.getValue().hasStringSet()
              ? Set.copyOf(a.getValue().getStringSet().getValuesList())
              : a.getValue().toString());
    }
    boxed.put("country", "DK");
  }

  @Benchmark
  public boolean attributeEquals() {
    return equals.test(ctx);
  }

  @Benchmark
  public boolean baselineBoxedMapEquals() {
    return "DK".equals(boxed.get("country"));
  }

  @Benchmark
  public boolean setMembership() {
    return inSet.test(ctx);
  }

  @Benchmark
  public boolean baselineBoxedSetContains() {
    return boxed.get("tags") instanceof Set<?> s && s.contains("tag3");
  }

  @Benchmark
  public boolean windowCount() {
    return window.test(ctx);
  }

  @Benchmark
  public boolean recencyWithValidity() {
    return recency.test(ctx);
  }

  @Benchmark
  public boolean briefExample() {
    return complex.test(ctx);
  }

  /** Indexing a profile's bytes (done once per update, shared by every segment evaluated). */
  @Benchmark
  public ProfileView bindView() {
    return view.bind(blob);
  }
}
