package dev.whack.client.protocol;

import dev.whack.client.DumpedProfile;
import java.util.List;

/** One page of whole profiles from one node, and the cursor of the next page (null when done). */
public record DumpPage(List<DumpedProfile> profiles, String nextCursor) {}
