package dev.whack.node.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.whack.node.testing.EmbeddedNode;
import java.io.File;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every Java example in docs/client.md compiles for Java 17 and runs, in the page's order, on the
 * machine's Java 17 against a real node: the page cannot drift from the API, and the client module
 * really runs on 17 (issue 20). A block after {@code <!-- not run -->} is compiled only. A block
 * that declares a class is compiled as it is and its {@code main} run; every other block becomes a
 * method with {@code client} in scope, run in order by a generated main. The quick start runs a
 * second time with no Micrometer on the classpath: it is an optional dependency.
 */
class ClientDocExamplesTest {
  private static final String DEFAULT_SERVER = "127.0.0.1:11211";
  private static final String NOT_RUN = "<!-- not run -->";

  private static final String IMPORTS =
      String.join(
          "\n",
          "import dev.whack.client.*;",
          "import dev.whack.client.model.*;",
          "import dev.whack.client.protocol.ItemDumpPage;",
          "import dev.whack.client.ring.ClusterMap;",
          "import dev.whack.client.tls.ClientTls;",
          "import io.micrometer.core.instrument.Timer;",
          "import io.micrometer.core.instrument.simple.SimpleMeterRegistry;",
          "import java.nio.charset.StandardCharsets;",
          "import java.nio.file.Path;",
          "import java.time.*;",
          "import java.util.*;",
          "import java.util.concurrent.*;",
          "import java.util.stream.Stream;",
          "");

  private EmbeddedNode node;
  private Path work;

  @BeforeEach
  void start() throws IOException {
    node = EmbeddedNode.start();
    work = Files.createTempDirectory("client-doc-examples");
  }

  @AfterEach
  void stop() throws IOException {
    node.close();
    try (Stream<Path> files = Files.walk(work)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private record Block(String code, boolean run) {}

  /** The ```java blocks of the page, in order. */
  static List<Block> blocks(List<String> lines) {
    List<Block> blocks = new ArrayList<>();
    boolean notRun = false;
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.equals(NOT_RUN)) {
        notRun = true;
      } else if (line.equals("```java")) {
        StringBuilder code = new StringBuilder();
        for (i++; !lines.get(i).strip().equals("```"); i++) {
          code.append(lines.get(i)).append('\n');
        }
        blocks.add(new Block(code.toString(), !notRun));
        notRun = false;
      } else if (!line.isEmpty()) {
        notRun = false;
      }
    }
    return blocks;
  }

  @Test
  void shouldCompileEveryExampleForJava17AndRunThemOnJava17AgainstANode() throws Exception {
    Path java17 = java17();
    assumeTrue(java17 != null, "no Java 17 runtime: set -Dwhack.java17.home");
    Path page = docs().resolve("client.md");
    List<Block> blocks = blocks(Files.readAllLines(page, StandardCharsets.UTF_8));
    assertTrue(blocks.size() >= 15, "the page's examples: " + blocks.size());

    Path src = Files.createDirectories(work.resolve("src"));
    Path classes = Files.createDirectories(work.resolve("classes"));
    List<String> programs = new ArrayList<>();
    StringBuilder snippets = new StringBuilder(IMPORTS).append("\npublic class DocExamples {\n");
    StringBuilder calls = new StringBuilder();
    int n = 0;
    for (Block b : blocks) {
      String code = b.code().replace(DEFAULT_SERVER, node.address());
      if (code.contains("public class ")) {
        String name = code.replaceAll("(?s).*public class (\\w+).*", "$1");
        Files.writeString(src.resolve(name + ".java"), code);
        if (b.run()) {
          programs.add(name);
        }
        continue;
      }
      n++;
      snippets
          .append("  static void example")
          .append(n)
          .append("(WhackClient client) throws Exception {\n")
          .append(code)
          .append("  }\n\n");
      if (b.run()) {
        calls
            .append("      example")
            .append(n)
            .append("(client);\n      System.out.println(\"example ")
            .append(n)
            .append(" ok\");\n");
      }
    }
    snippets
        .append("  public static void main(String[] args) throws Exception {\n")
        .append("    for (String program : args[1].split(\",\")) {\n")
        .append("      Class.forName(program).getMethod(\"main\", String[].class)")
        .append(".invoke(null, (Object) new String[0]);\n")
        .append("    }\n")
        .append("    try (WhackClient client = WhackClient.builder().servers(args[0]).build()) {\n")
        .append(calls)
        .append("    }\n  }\n}\n");
    Files.writeString(src.resolve("DocExamples.java"), snippets);

    String classPath = clientClassPath(false);
    compile(src, classes, classPath);

    // The examples in order on Java 17, the programs (the quick start) first.
    Output all =
        run(
            java17,
            classes + File.pathSeparator + classPath,
            "DocExamples",
            node.address(),
            String.join(",", programs));
    // What the examples printed, to compare with the page's comments by eye.
    Files.writeString(Path.of("target", "client-doc-examples.txt"), all.toString());
    assertEquals(0, all.exitCode(), all.toString());
    long ran = blocks.stream().filter(b -> b.run() && !b.code().contains("public class ")).count();
    assertEquals(
        ran, all.out().lines().filter(l -> l.matches("example \\d+ ok")).count(), all.out());
    assertTrue(all.out().startsWith("DK\n1\n1\n"), "the quick start's output: " + all.out());

    // The quick start alone with no Micrometer on the classpath.
    String withoutMicrometer = clientClassPath(true);
    Output quick = run(java17, classes + File.pathSeparator + withoutMicrometer, "QuickStart");
    assertEquals(0, quick.exitCode(), quick.toString());
    // setProfile replaced the profile, so the visit counted is the first again.
    assertEquals("DK\n1\n1\n", quick.out());
  }

  /** The repository's docs/ folder, found upward from the module's directory. */
  private static Path docs() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("docs/client.md"))) {
        return p.resolve("docs");
      }
    }
    throw new IllegalStateException("no docs/client.md above " + Path.of("").toAbsolutePath());
  }

  /** A Java 17 runtime: -Dwhack.java17.home, else Debian's. */
  private static Path java17() {
    List<String> homes = new ArrayList<>();
    String given = System.getProperty("whack.java17.home");
    if (given != null) {
      homes.add(given);
    }
    homes.add("/usr/lib/jvm/java-17-openjdk-amd64");
    homes.add("/usr/lib/jvm/java-17-openjdk");
    for (String home : homes) {
      Path java = Path.of(home, "bin", "java");
      if (Files.isExecutable(java)) {
        return java;
      }
    }
    return null;
  }

  /**
   * The client and its dependencies: this test's classpath without the node's own classes (built
   * for 21, and not what an application of the client has), optionally without Micrometer.
   */
  private static String clientClassPath(boolean withoutMicrometer) {
    return Stream.of(System.getProperty("java.class.path").split(File.pathSeparator))
        .filter(e -> !e.contains("/node/target/") && !e.contains("whack-node"))
        .filter(e -> !withoutMicrometer || !e.contains("micrometer"))
        .collect(Collectors.joining(File.pathSeparator));
  }

  private static void compile(Path src, Path classes, String classPath) throws IOException {
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    StringWriter errors = new StringWriter();
    try (StandardJavaFileManager files =
            javac.getStandardFileManager(null, null, StandardCharsets.UTF_8);
        Stream<Path> sources = Files.list(src)) {
      Iterable<? extends JavaFileObject> units =
          files.getJavaFileObjectsFromPaths(sources.toList());
      boolean ok =
          javac
              .getTask(
                  errors,
                  files,
                  null,
                  List.of(
                      // -try: a watch held open by try-with-resources is not otherwise used
                      "--release",
                      "17",
                      "-Xlint:all,-try",
                      "-Werror",
                      "-cp",
                      classPath,
                      "-d",
                      classes.toString()),
                  null,
                  units)
              .call();
      assertTrue(ok, "docs/client.md's examples do not compile for Java 17:\n" + errors);
    }
  }

  private record Output(int exitCode, String out, String err) {
    @Override
    public String toString() {
      return "exit " + exitCode + "\nstdout:\n" + out + "\nstderr:\n" + err;
    }
  }

  private Output run(Path java, String classPath, String... mainAndArgs) throws Exception {
    Path out = Files.createTempFile(work, "out", ".txt");
    Path err = Files.createTempFile(work, "err", ".txt");
    List<String> command = new ArrayList<>(List.of(java.toString(), "-cp", classPath));
    command.addAll(List.of(mainAndArgs));
    Process process =
        new ProcessBuilder(command)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    if (!process.waitFor(120, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError(
          "the examples did not finish within 120 s: " + Files.readString(out));
    }
    return new Output(
        process.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }
}
