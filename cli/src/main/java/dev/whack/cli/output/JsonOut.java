package dev.whack.cli.output;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;

/** {@code --json} output: one JSON document per call, on one line. */
public final class JsonOut {
  private static final JsonFactory FACTORY = new JsonFactory();

  /** What writes the document. */
  @FunctionalInterface
  public interface Body {
    void write(JsonGenerator g) throws IOException;
  }

  private JsonOut() {}

  public static void print(PrintStream out, Body body) {
    out.println(render(body));
    out.flush();
  }

  public static String render(Body body) {
    StringWriter text = new StringWriter();
    try (JsonGenerator g = FACTORY.createGenerator(text)) {
      body.write(g);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return text.toString();
  }

  /** A JSON string literal, quotes included. */
  public static String string(String s) {
    return render(g -> g.writeString(s));
  }
}
