package dev.whack.client.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzz target: {@link ProfileData#parse(byte[])} of any bytes returns a profile or throws {@link
 * IllegalArgumentException}, never anything else; and a profile it returns writes JSON that reads
 * back as the same profile, in the same text. Seeds in {@code ProfileDataFuzzTestInputs/parse/}.
 */
class ProfileDataFuzzTest {
  @FuzzTest(maxDuration = "5m")
  void parse(byte[] input) {
    ProfileData profile;
    try {
      profile = ProfileData.parse(input);
    } catch (IllegalArgumentException refused) {
      return;
    }
    String json = profile.toJson();
    ProfileData again = ProfileData.parse(json);
    assertEquals(profile, again);
    assertEquals(json, again.toJson());
  }
}
