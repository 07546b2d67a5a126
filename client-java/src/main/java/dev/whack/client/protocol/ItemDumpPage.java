package dev.whack.client.protocol;

import dev.whack.client.DumpedItem;
import java.util.List;

/** One page of opaque items from one node, and the cursor of the next page (null when done). */
public record ItemDumpPage(List<DumpedItem> items, String nextCursor) {}
