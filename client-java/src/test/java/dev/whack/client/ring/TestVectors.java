package dev.whack.client.ring;

import java.util.Map;

/** Keys whose owners in a three-member ring are pinned here and in docs/cluster.md. */
final class TestVectors {
  static final Map<String, String> THREE_MEMBERS =
      Map.of(
          "",
          "10.0.0.1:11211",
          "a",
          "10.0.0.2:11211",
          "user:1",
          "10.0.0.1:11211",
          "user:2",
          "10.0.0.1:11211",
          "user:42",
          "10.0.0.2:11211",
          "profile:1000",
          "10.0.0.2:11211",
          "segment",
          "10.0.0.3:11211",
          "ünïcödé",
          "10.0.0.1:11211",
          "k".repeat(250),
          "10.0.0.1:11211");

  /** XXH3-64 (seed 0) of some of the keys, to check a port's hash before its ring. */
  static final Map<String, Long> HASHES =
      Map.of(
          "", 0x2d06800538d394c2L,
          "a", 0xe6c632b61e964e1fL,
          "user:1", 0x3b577afd7fed9501L,
          "user:42", 0x9fc1e605fa7174aaL,
          "segment", 0x5c61688a185241c4L);

  private TestVectors() {}
}
