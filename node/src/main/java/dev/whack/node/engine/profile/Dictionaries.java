package dev.whack.node.engine.profile;

/**
 * The node's three name tables. Ids are node-local and never written outside the node: every
 * external form (JSON, protobuf) carries names.
 *
 * <p>Concurrency: see {@link NameTable}; this holder is immutable.
 */
public record Dictionaries(NameTable attributes, NameTable events, NameTable producers) {
  public static Dictionaries create(int maxNames) {
    return new Dictionaries(
        new NameTable("attribute", maxNames),
        new NameTable("event", maxNames),
        new NameTable("producer", maxNames));
  }
}
