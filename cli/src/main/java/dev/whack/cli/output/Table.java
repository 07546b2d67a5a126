package dev.whack.cli.output;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A plain-text table for people: a header, rows, columns padded to their widest cell, numbers
 * right-aligned. The last column is never padded, so a long expression does not push trailing
 * spaces.
 */
public final class Table {
  private final List<String> header;
  private final boolean[] rightAligned;
  private final List<List<String>> rows = new ArrayList<>();
  private final List<Integer> rulesBefore = new ArrayList<>();

  /** Columns whose name starts with {@code >} are right-aligned (the mark is not printed). */
  public Table(String... columns) {
    header = new ArrayList<>();
    rightAligned = new boolean[columns.length];
    for (int i = 0; i < columns.length; i++) {
      rightAligned[i] = columns[i].startsWith(">");
      header.add(rightAligned[i] ? columns[i].substring(1) : columns[i]);
    }
  }

  public Table row(Object... cells) {
    if (cells.length != header.size()) {
      throw new IllegalArgumentException(
          "a row of " + cells.length + " cells in a table of " + header.size() + " columns");
    }
    List<String> row = new ArrayList<>(cells.length);
    for (Object c : cells) {
      row.add(c == null ? "-" : c.toString());
    }
    rows.add(row);
    return this;
  }

  /** A dashed line before the next row (before a totals row). */
  public Table rule() {
    rulesBefore.add(rows.size());
    return this;
  }

  public int size() {
    return rows.size();
  }

  public void print(PrintStream out) {
    int[] width = new int[header.size()];
    for (int i = 0; i < width.length; i++) {
      width[i] = header.get(i).length();
      for (List<String> r : rows) {
        width[i] = Math.max(width[i], r.get(i).length());
      }
    }
    line(out, header, width);
    for (int r = 0; r < rows.size(); r++) {
      if (rulesBefore.contains(r)) {
        List<String> dashes = new ArrayList<>();
        for (int w : width) {
          dashes.add("-".repeat(w));
        }
        line(out, dashes, width);
      }
      line(out, rows.get(r), width);
    }
  }

  private void line(PrintStream out, List<String> cells, int[] width) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      String c = cells.get(i);
      boolean last = i == cells.size() - 1;
      if (i > 0) {
        b.append("  ");
      }
      if (rightAligned[i]) {
        b.append(" ".repeat(width[i] - c.length())).append(c);
      } else {
        b.append(c);
        if (!last) {
          b.append(" ".repeat(width[i] - c.length()));
        }
      }
    }
    out.println(b.toString().stripTrailing());
  }
}
