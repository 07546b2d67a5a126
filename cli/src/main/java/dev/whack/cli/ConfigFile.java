package dev.whack.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.api.lowlevel.Parse;
import org.snakeyaml.engine.v2.common.ScalarStyle;
import org.snakeyaml.engine.v2.events.Event;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code whack node --config FILE}: a YAML file with one key per flag of {@code whack node}, named
 * as the flag without its {@code --} ({@code port: 11211}, {@code data-dir: /var/lib/whack}), and
 * {@code --print-config}, which writes the effective settings back in the same form.
 *
 * <p>The keys are not listed here: they are the options of the command's picocli {@link
 * CommandSpec}, so a flag added to {@link NodeCommand} has its key at once, read and printed by its
 * type ({@link Kind}); a flag of a type this file cannot express fails {@code ConfigFileTest}. What
 * the file says is applied to the options the command line did not give, so a flag always wins over
 * the file, and the file over the defaults.
 *
 * <p>The file is read with snakeyaml-engine's composer, not its constructor: the node tree keeps
 * every key's and value's line, so that an unknown key, a key given twice or a value of the wrong
 * form is reported as {@code FILE line N: ...}, and a value is read as its flag's type would read
 * it rather than as YAML guesses it ({@code fsync: no} is the text "no", as {@code --fsync no} is).
 * A relative path in the file is relative to the file's directory, so that a file means the same
 * wherever the node is started from.
 */
final class ConfigFile {
  /** The options that are about the file itself, and so have no key. */
  private static final Set<String> NOT_KEYS = Set.of("--config", "--print-config");

  /** What a key's value may be, from its option's Java type. */
  enum Kind {
    INTEGER("an integer"),
    BOOLEAN("true or false"),
    TEXT("a single value"),
    PATH("a file or directory path"),
    TEXT_LIST("a list (- item lines, [a, b], or a,b)"),
    PATH_LIST("a list of paths");

    final String expected;

    Kind(String expected) {
      this.expected = expected;
    }
  }

  /** A file that cannot be used: its message names the file, and the line when there is one. */
  static final class Invalid extends Exception {
    private static final long serialVersionUID = 1L;

    Invalid(String message) {
      super(message);
    }
  }

  /** One key the file sets: the option, the value in the option's type, and where it is. */
  record Setting(OptionSpec option, Object value, String where) {}

  private ConfigFile() {}

  /** The options that have a key, in the order {@code --help} lists them. */
  static List<OptionSpec> keyed(CommandSpec spec) {
    List<OptionSpec> keyed = new ArrayList<>();
    for (OptionSpec option : spec.options()) {
      if (option.usageHelp()
          || option.versionHelp()
          || option.inherited()
          || NOT_KEYS.contains(option.longestName())) {
        continue;
      }
      kind(option); // every key must be readable: fails for a type this file cannot express
      keyed.add(option);
    }
    return keyed;
  }

  /** The key of an option: its long name without the dashes. */
  static String key(OptionSpec option) {
    return option.longestName().replaceFirst("^-+", "");
  }

  static Kind kind(OptionSpec option) {
    Class<?> type = option.type();
    if (List.class.isAssignableFrom(type)) {
      Class<?>[] element = option.auxiliaryTypes();
      if (element.length == 1 && element[0] == String.class) {
        return Kind.TEXT_LIST;
      }
      if (element.length == 1 && element[0] == Path.class) {
        return Kind.PATH_LIST;
      }
    } else if (type == int.class
        || type == Integer.class
        || type == long.class
        || type == Long.class) {
      return Kind.INTEGER;
    } else if (type == boolean.class || type == Boolean.class) {
      return Kind.BOOLEAN;
    } else if (type == String.class) {
      return Kind.TEXT;
    } else if (type == Path.class) {
      return Kind.PATH;
    }
    throw new IllegalStateException(
        option.longestName()
            + " is a "
            + option.typeInfo().getClassName()
            + ", which the configuration file cannot express: teach ConfigFile.Kind its form");
  }

  /**
   * Reads {@code file} (named {@code shown} in messages, as the user gave it) against the command's
   * options.
   */
  static List<Setting> read(Path file, String shown, CommandSpec spec) throws Invalid {
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      return read(reader, file.toAbsolutePath().getParent(), shown, spec);
    } catch (NoSuchFileException e) {
      throw new Invalid("cannot read " + shown + ": no such file");
    } catch (IOException | java.io.UncheckedIOException e) {
      throw new Invalid("cannot read " + shown + ": " + e.getMessage());
    }
  }

  /**
   * Reads a configuration from {@code reader}, relative paths resolved against {@code base}: the
   * settings, or {@link Invalid} with what is wrong and where; nothing else (ConfigFileFuzzTest).
   */
  static List<Setting> read(Reader reader, Path base, String shown, CommandSpec spec)
      throws Invalid {
    Map<String, OptionSpec> byKey = new LinkedHashMap<>();
    for (OptionSpec option : keyed(spec)) {
      byKey.put(key(option), option);
    }
    Node root;
    try {
      String text = text(reader, shown);
      LoadSettings settings = LoadSettings.builder().setLabel(shown).build();
      checkDepth(new Parse(settings).parseString(text), shown);
      Optional<Node> composed = new Compose(settings).composeString(text);
      if (composed.isEmpty()) {
        return List.of(); // an empty file, or only comments: every setting from the flags
      }
      root = composed.get();
    } catch (MarkedYamlEngineException e) {
      String where = e.getProblemMark().map(m -> " line " + line(m)).orElse("");
      throw new Invalid(shown + where + ": not YAML: " + e.getProblem());
    } catch (YamlEngineException e) {
      throw new Invalid(shown + ": not YAML: " + e.getMessage());
    } catch (IllegalArgumentException e) {
      // snakeyaml-engine 3.2 lets a bad escape's NumberFormatException out ("\Ud9999999").
      throw new Invalid(shown + ": not YAML: " + e.getMessage());
    }
    if (!(root instanceof MappingNode mapping)) {
      throw new Invalid(
          shown
              + " line "
              + line(root)
              + ": expected keys and values (port: 11211), one per line, found "
              + describe(root));
    }
    Map<String, Integer> seen = new HashMap<>();
    List<Setting> settings = new ArrayList<>();
    for (NodeTuple tuple : mapping.getValue()) {
      Node keyNode = tuple.getKeyNode();
      int line = line(keyNode);
      String where = shown + " line " + line + ": ";
      if (!(keyNode instanceof ScalarNode scalarKey)) {
        throw new Invalid(where + "a key must be a name, found " + describe(keyNode));
      }
      String key = scalarKey.getValue();
      OptionSpec option = byKey.get(key);
      if (option == null) {
        throw new Invalid(where + "unknown key \"" + key + "\"" + suggestion(key, byKey.keySet()));
      }
      Integer first = seen.putIfAbsent(key, line);
      if (first != null) {
        throw new Invalid(where + "\"" + key + "\" is given twice (first on line " + first + ")");
      }
      Object value = value(option, tuple.getValueNode(), base, shown);
      if (value != null) {
        settings.add(new Setting(option, value, shown + " line " + line + ", \"" + key + "\""));
      }
    }
    return settings;
  }

  /**
   * Sets every option the file gives unless {@code given} says the command line gave it: a flag
   * wins over the file. Returns where each option set is in the file ({@code whack.yaml line 3,
   * "memory"}), by its flag, for the messages of values the node refuses later.
   */
  static Map<String, String> apply(List<Setting> settings, Predicate<OptionSpec> given) {
    Map<String, String> where = new HashMap<>();
    for (Setting s : settings) {
      if (!given.test(s.option())) {
        s.option().setValue(s.value());
        where.put(s.option().longestName(), s.where());
      }
    }
    return where;
  }

  /**
   * The value of a key in its option's type, or null for a key without a value ({@code key:}, or
   * {@code ~}/{@code null}), which leaves the option as it is.
   */
  private static Object value(OptionSpec option, Node node, Path base, String shown)
      throws Invalid {
    Kind kind = kind(option);
    String key = key(option);
    if (isNull(node)) {
      return null;
    }
    if (kind == Kind.TEXT_LIST || kind == Kind.PATH_LIST) {
      List<String> items = new ArrayList<>();
      if (node instanceof SequenceNode sequence) {
        for (Node item : sequence.getValue()) {
          if (!(item instanceof ScalarNode scalar) || isNull(item)) {
            throw new Invalid(
                shown
                    + " line "
                    + line(item)
                    + ": an item of \""
                    + key
                    + "\" must be a single value, not "
                    + (isNull(item) ? "empty" : describe(item)));
          }
          items.add(scalar.getValue());
        }
      } else if (node instanceof ScalarNode scalar) {
        for (String item : scalar.getValue().split(",", -1)) { // as the flag: a,b
          items.add(item.strip());
        }
      } else {
        throw wrong(shown, key, kind, node);
      }
      List<Object> values = new ArrayList<>();
      for (String item : items) {
        values.add(kind == Kind.PATH_LIST ? path(base, item, shown, key, kind, node) : item);
      }
      return values;
    }
    if (!(node instanceof ScalarNode scalar)) {
      throw wrong(shown, key, kind, node);
    }
    String text = scalar.getValue();
    switch (kind) {
      case INTEGER -> {
        if (!INTEGER.matcher(text).matches()) {
          throw wrong(shown, key, kind, node);
        }
        try {
          long n = Long.parseLong(text);
          if (option.type() == int.class || option.type() == Integer.class) {
            return Math.toIntExact(n);
          }
          return n;
        } catch (NumberFormatException | ArithmeticException e) {
          throw new Invalid(
              shown + " line " + line(node) + ": \"" + key + "\" is out of range: " + text);
        }
      }
      case BOOLEAN -> {
        return switch (text) {
          case "true", "True", "TRUE" -> true;
          case "false", "False", "FALSE" -> false;
          default -> throw wrong(shown, key, kind, node);
        };
      }
      case PATH -> {
        return path(base, text, shown, key, kind, node);
      }
      default -> {
        return text;
      }
    }
  }

  /** The longest file read: a configuration is a page of keys, not megabytes. */
  private static final int MAX_CHARS = 1 << 20;

  /**
   * The deepest nesting read. The file is flat (a list is the deepest value); the composer recurses
   * per level, so a file of thousands of brackets would overflow the stack rather than be refused.
   */
  private static final int MAX_DEPTH = 16;

  private static String text(Reader reader, String shown) throws Invalid {
    StringBuilder text = new StringBuilder();
    char[] buffer = new char[8192];
    try {
      for (int n = reader.read(buffer); n >= 0; n = reader.read(buffer)) {
        text.append(buffer, 0, n);
        if (text.length() > MAX_CHARS) {
          throw new Invalid(shown + " is over " + MAX_CHARS + " characters: not a configuration");
        }
      }
    } catch (IOException e) {
      throw new Invalid("cannot read " + shown + ": " + e.getMessage());
    }
    return text.toString();
  }

  private static void checkDepth(Iterable<Event> events, String shown) throws Invalid {
    int depth = 0;
    for (Event event : events) {
      switch (event.getEventId()) {
        case MappingStart, SequenceStart -> {
          if (++depth > MAX_DEPTH) {
            throw new Invalid(
                shown
                    + event.getStartMark().map(m -> " line " + line(m)).orElse("")
                    + ": nested more than "
                    + MAX_DEPTH
                    + " deep; the keys take single values and lists");
          }
        }
        case MappingEnd, SequenceEnd -> depth--;
        default -> {}
      }
    }
  }

  /** {@code text} as a path relative to {@code base}, or Invalid for one the system cannot have. */
  private static Path path(Path base, String text, String shown, String key, Kind kind, Node node)
      throws Invalid {
    try {
      return base.resolve(text);
    } catch (java.nio.file.InvalidPathException e) {
      throw wrong(shown, key, kind, node);
    }
  }

  private static final Pattern INTEGER = Pattern.compile("[-+]?[0-9]+");

  private static boolean isNull(Node node) {
    if (!(node instanceof ScalarNode scalar) || scalar.getScalarStyle() != ScalarStyle.PLAIN) {
      return false;
    }
    return switch (scalar.getValue()) {
      case "", "~", "null", "Null", "NULL" -> true;
      default -> false;
    };
  }

  private static Invalid wrong(String shown, String key, Kind kind, Node node) {
    return new Invalid(
        shown
            + " line "
            + line(node)
            + ": \""
            + key
            + "\" must be "
            + kind.expected
            + ", not "
            + describe(node));
  }

  /** How a value reads in a message: a scalar quoted, a list or a section by what it is. */
  private static String describe(Node node) {
    if (node instanceof ScalarNode scalar) {
      return "\"" + scalar.getValue() + "\"";
    }
    if (node instanceof SequenceNode) {
      return "a list";
    }
    return "a section of keys";
  }

  /** A known key near an unknown one (a typo), as " (did you mean "memory"?)", or nothing. */
  private static String suggestion(String key, Iterable<String> known) {
    String best = null;
    int bestDistance = 3; // more than two edits away is not a typo
    for (String candidate : known) {
      int d = distance(key.toLowerCase(Locale.ROOT), candidate);
      if (d < bestDistance) {
        best = candidate;
        bestDistance = d;
      }
    }
    return best == null ? "" : " (did you mean \"" + best + "\"?)";
  }

  /** Levenshtein distance; keys are short. */
  private static int distance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] t = previous;
      previous = current;
      current = t;
    }
    return previous[b.length()];
  }

  private static int line(Node node) {
    return node.getStartMark().map(ConfigFile::line).orElse(0);
  }

  private static int line(Mark mark) {
    return mark.getLine() + 1; // snakeyaml counts from 0
  }

  /**
   * The command's settings as a configuration file: every key with the value the option has now
   * (after the file, the flags and the defaults), paths absolute so the file means the same from
   * any directory. Reading it back with {@link #read} gives the same settings.
   */
  static String print(CommandSpec spec) {
    StringBuilder out = new StringBuilder();
    out.append("# whack node's effective configuration (the file, the flags, the defaults), as\n");
    out.append(
        "# printed by --print-config: a file for whack node --config. Every key is a flag\n");
    out.append("# of whack node --help without its --.\n");
    for (OptionSpec option : keyed(spec)) {
      Kind kind = kind(option);
      Object value = option.getValue();
      out.append(key(option)).append(':');
      if (value == null) {
        out.append("  # not set\n");
      } else if (kind == Kind.TEXT_LIST || kind == Kind.PATH_LIST) {
        List<?> items = (List<?>) value;
        if (items.isEmpty()) {
          out.append(" []\n");
        } else {
          out.append('\n');
          for (Object item : items) {
            out.append("  - ").append(scalar(kind == Kind.PATH_LIST ? absolute(item) : item));
            out.append('\n');
          }
        }
      } else {
        out.append(' ').append(scalar(kind == Kind.PATH ? absolute(value) : value)).append('\n');
      }
    }
    return out.toString();
  }

  private static String absolute(Object path) {
    return ((Path) path).toAbsolutePath().normalize().toString();
  }

  /** Text YAML reads back as the same text: plain when it is safe, else double-quoted. */
  private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_./][A-Za-z0-9_./:@+,=-]*");

  private static final Pattern SPECIAL =
      Pattern.compile("(?i)true|false|null|yes|no|on|off|~|y|n|[-+]?[.]?(inf|nan)");

  /**
   * Whether a double-quoted scalar may hold {@code c} as it is: YAML's printable characters
   * (c-printable) less the line breaks, which a quoted scalar folds into spaces, and the BOM.
   */
  private static boolean printable(int c) {
    return (c >= 0x20 && c <= 0x7E)
        || (c >= 0xA0 && c <= 0xD7FF && c != 0x2028 && c != 0x2029)
        || (c >= 0xE000 && c <= 0xFFFD && c != 0xFEFF)
        || (c >= 0x10000 && c <= 0x10FFFF);
  }

  static String scalar(Object value) {
    String text = value.toString();
    if (!(value instanceof String) && !(value instanceof Path)) {
      return text; // a number or a boolean, as YAML writes it
    }
    if (PLAIN.matcher(text).matches()
        && !SPECIAL.matcher(text).matches()
        && !text.endsWith(":")
        && !text.contains(": ")) {
      return text;
    }
    StringBuilder quoted = new StringBuilder("\"");
    text.codePoints()
        .forEach(
            c -> {
              switch (c) {
                case '"' -> quoted.append("\\\"");
                case '\\' -> quoted.append("\\\\");
                case '\n' -> quoted.append("\\n");
                case '\t' -> quoted.append("\\t");
                default -> {
                  if (printable(c)) {
                    quoted.appendCodePoint(c);
                  } else {
                    quoted.append(String.format(Locale.ROOT, "\\u%04x", c)); // all below 0x10000
                  }
                }
              }
            });
    return quoted.append('"').toString();
  }
}
