package dev.whack.node.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whack.node.engine.json.ProfileJson;
import dev.whack.node.testing.ManualClock;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/** Streaming Profile JSON into the compact writer gives exactly what the protobuf path gives. */
class PutPathsProperties {
  @Property(tries = 300)
  void jsonAndProtobufPutsStoreTheSameProfile(@ForAll long seed) {
    Random r = new Random(seed);
    ManualClock clock = ManualClock.at("2026-11-20T10:00:00Z");
    KeyedEngine viaJson = new KeyedEngine(new EngineConfig().clock(clock));
    KeyedEngine viaProto = new KeyedEngine(new EngineConfig().clock(clock));
    String segment = EngineWorkload.SEGMENTS[r.nextInt(EngineWorkload.SEGMENTS.length)];
    viaJson.define("a", segment);
    viaProto.define("a", segment);
    byte[] key = EngineWorkload.bytes("k");
    byte[] json = EngineWorkload.bytes(EngineWorkload.profile(r, clock.millis()));
    viaJson.putJson(key, json, 0, json.length);
    viaProto.put(key, ProfileJson.parse(json));
    assertArrayEquals(viaProto.getJson(key), viaJson.getJson(key));
    assertEquals(viaProto.get(key), viaJson.get(key));
    assertEquals(viaProto.count("a"), viaJson.count("a"));
  }
}
