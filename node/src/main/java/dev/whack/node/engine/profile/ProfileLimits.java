package dev.whack.node.engine.profile;

/**
 * What one profile may hold (docs/protocol.md, "Limits"). A write that would take a profile past a
 * limit is rejected whole; producer marks are the exception: the oldest make room (see {@link
 * #producerMarkAgeSeconds}).
 *
 * @param attributes most attributes in one profile; also the most attribute operations one update
 *     may hold ({@code set}, {@code unset}, {@code incr}, {@code add} and {@code remove} together)
 * @param eventSeries most event series in one profile (series whose every bucket is past the
 *     retention do not count)
 * @param producers most producer marks in one profile; a new producer on a profile that holds this
 *     many drops the mark advanced least recently
 * @param producerMarkAgeSeconds a mark not advanced for longer than this is dropped: a replay of
 *     that producer's updates would then apply again
 */
public record ProfileLimits(
    int attributes, int eventSeries, int producers, long producerMarkAgeSeconds) {
  public static final ProfileLimits DEFAULTS = new ProfileLimits(1024, 1024, 64, 30L * 86_400);
}
