package dev.whack.client;

/** A defined segment: its name, its size over the whole cluster and its expression. */
public record SegmentInfo(String name, long size, String expression) {}
