package dev.whack.node.engine;

import java.util.List;

/**
 * One page of profile keys in ordinal order.
 *
 * @param nextCursor pass back to get the next page; null when there are no more. A profile that
 *     stays in the set for the whole paging is returned exactly once.
 */
public record MembersPage(List<String> keys, String nextCursor) {}
