package dev.whack.node.engine;

/**
 * Told each segment definition and drop once it has taken effect, for a log that must replay them
 * (docs/architecture.md, "Durability"). Called on the defining thread, after the backfill.
 */
public interface CatalogListener {
  CatalogListener NONE =
      new CatalogListener() {
        @Override
        public void defined(String name, String expression) {}

        @Override
        public void dropped(String name) {}
      };

  void defined(String name, String expression);

  void dropped(String name);
}
