package dev.whack.node.engine.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whack.proto.Attribute;
import dev.whack.proto.Profile;
import dev.whack.proto.SetDelta;
import dev.whack.proto.StringSet;
import dev.whack.proto.Update;
import dev.whack.proto.Value;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * Set values and set deltas, small (compared pairwise) and large (hashed), behave as an
 * insertion-ordered set: duplicates dropped, old elements first, new ones in delta order.
 */
class SetOperationsProperties {
  private static final long NOW = 1_795_168_800_000L;
  private static final String[] WORDS = {
    "a", "b", "é", "😀", "", "long-" + "x".repeat(40), "c", "ab"
  };

  private final Dictionaries dict = Dictionaries.create(1000);
  private final ProfileWriter writer = new ProfileWriter(dict, 60, ProfileLimits.DEFAULTS);
  private final StripeNames stripe = new StripeNames();

  private static List<String> words(Random r, int max) {
    List<String> out = new ArrayList<>();
    int n = r.nextInt(max + 1);
    for (int i = 0; i < n; i++) {
      out.add(r.nextInt(3) == 0 ? WORDS[r.nextInt(WORDS.length)] : "w" + r.nextInt(n + 1));
    }
    return out;
  }

  private List<String> set(byte[] blob) {
    Profile p = ProfileCodec.toProto(blob, dict);
    return p.getAttributes(0).getValue().getStringSet().getValuesList();
  }

  @Property(tries = 500)
  void setsBehaveAsInsertionOrderedSets(@ForAll long seed) {
    Random r = new Random(seed);
    byte[] key = {'k'};
    int max = r.nextBoolean() ? 8 : 80;
    List<String> initial = words(r, max);
    Update set =
        Update.newBuilder()
            .addSet(
                Attribute.newBuilder()
                    .setName("s")
                    .setValue(
                        Value.newBuilder()
                            .setStringSet(StringSet.newBuilder().addAllValues(initial))))
            .build();
    byte[] blob = writer.apply(key, null, set, NOW, stripe);
    writer.commit(null);
    LinkedHashSet<String> model = new LinkedHashSet<>(initial);
    assertEquals(List.copyOf(model), set(blob));
    for (int step = 0; step < 4; step++) {
      List<String> delta = words(r, max);
      boolean add = r.nextBoolean();
      SetDelta d = SetDelta.newBuilder().setName("s").addAllValues(delta).build();
      Update u =
          add ? Update.newBuilder().addAdd(d).build() : Update.newBuilder().addRemove(d).build();
      byte[] next = writer.apply(key, blob, u, NOW, stripe);
      writer.commit(blob);
      blob = next;
      if (add) {
        model.addAll(delta);
      } else {
        model.removeAll(delta);
      }
      assertEquals(List.copyOf(model), set(blob), (add ? "add " : "remove ") + delta);
    }
  }
}
