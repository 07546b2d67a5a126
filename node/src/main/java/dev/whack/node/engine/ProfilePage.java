package dev.whack.node.engine;

import dev.whack.proto.Profile;
import java.util.List;

/**
 * One page of whole profiles (key included) in ordinal order, for dumps.
 *
 * @param nextCursor pass back for the next page; null when there are no more
 */
public record ProfilePage(List<Profile> profiles, String nextCursor) {}
