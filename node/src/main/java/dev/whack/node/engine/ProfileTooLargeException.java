package dev.whack.node.engine;

import dev.whack.node.engine.profile.Rendering;
import java.util.Locale;

/**
 * A put or update whose resulting profile would render (as a read returns it) to more than the
 * configured value limit ({@link EngineConfig#maxValueBytes}). Nothing is applied. The memcached
 * front ends answer it as memcached answers a value over its item size limit.
 */
public final class ProfileTooLargeException extends EngineException {
  public ProfileTooLargeException(long renderedBytes, Rendering rendering, int limitBytes) {
    super(
        "the profile would be "
            + renderedBytes
            + " bytes as "
            + rendering.name().toLowerCase(Locale.ROOT)
            + ", over the item size limit of "
            + limitBytes
            + " bytes");
  }
}
