package dev.whack.client.protocol;

import java.util.List;

/** One page of members from one node, and the cursor of the next page (null when done). */
public record MembersPage(List<String> keys, String nextCursor) {}
